import { Counter, Gauge, type Registry } from 'prom-client';

/** The deadline metrics of one hosted id, in its exchange's registry (labelled with the participant). */
export interface DeadlineMetrics {
  /** `pex_deadline_overruns_total{deadline}`: overruns reported, each once per dossier and date due. */
  overruns: Counter<'deadline'>;
  /** `pex_worklist_overdue{action}`: owed actions past their legal deadline at the last scan. */
  overdue: Gauge<'action'>;
}

/** The registry's metric by name, or a new one registered there (a registry keeps one of each). */
function single<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/**
 * The deadline metrics in `registry`: what a body's supervision alerts on (an overrun reported, a worklist
 * with overdue actions), beside the exchange's own metrics on `/metrics`.
 */
export function deadlineMetrics(registry: Registry): DeadlineMetrics {
  return {
    overruns: single(
      registry,
      'pex_deadline_overruns_total',
      () =>
        new Counter({
          name: 'pex_deadline_overruns_total',
          help: 'Legal deadlines reported overrun (each once per dossier and date due), by deadline',
          labelNames: ['deadline'],
          registers: [registry],
        }),
    ),
    overdue: single(
      registry,
      'pex_worklist_overdue',
      () =>
        new Gauge({
          name: 'pex_worklist_overdue',
          help: 'Actions the body owes past their legal deadline, at the last deadline scan, by action',
          labelNames: ['action'],
          registers: [registry],
        }),
    ),
  };
}

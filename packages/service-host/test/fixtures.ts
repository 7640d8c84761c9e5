import type { Body, BodyTable, DossierRecord } from '@passerelle/procedure';

/** A body's table with no steps: a host that only connects, relays and serves its probes. */
export function emptyTable(body: Body): BodyTable<DossierRecord, never> {
  return { body, evolve: (state) => state!, messages: {}, actions: {}, deadlines: {} };
}

import type { Policy } from '@passerelle/procedure';
import { type BodyService, type HostedServiceConfig, ServiceHost } from '@passerelle/service-host';
import type { OfficeDossier } from './rules.js';
import { type OfficeEvent, type OfficeSettings, officeTable } from './table.js';

/** The participant id of the Immigration Office. */
export const IMMIGRATION_OFFICE = 'immigration-office';

/** Settings of {@link createImmigrationOfficeService}. */
export interface ImmigrationOfficeConfig extends HostedServiceConfig, OfficeSettings {
  /** Automatic decisions (e.g. `automaticOfficePolicy`); none by default: a case officer decides residence. */
  policy?: Policy<OfficeDossier>;
}

/** A running Immigration Office service. */
export type ImmigrationOfficeService = BodyService<OfficeDossier>;

/**
 * Starts the Immigration Office: fee check (Art. 1/2/1, annexes 43 / 43bis), residence decisions a case
 * officer takes (`decide-residence`: annex 46 for the work-authorisation period, annex 48), annex 46 copies
 * to the consular post and the commune, the follow-up of visa, arrival and permit, the end of stay
 * (`end-stay`, annex 52) and the family members' deadline.
 *
 * @example
 * ```ts
 * const oe = await createImmigrationOfficeService({ participants: [oeKeys], directory, contracts, servers });
 * await oe.act(IMMIGRATION_OFFICE, dossierId, 'decide-residence', { decision: 'granted' }, officer);
 * ```
 */
export async function createImmigrationOfficeService(
  config: ImmigrationOfficeConfig,
): Promise<ImmigrationOfficeService> {
  const { feeAmountCents, feePaymentWorkingDays, ...hosted } = config;
  const host = await ServiceHost.open<OfficeDossier, OfficeEvent>({
    ...hosted,
    service: 'immigration-office',
    kind: 'immigration-office',
    table: officeTable({
      ...(feeAmountCents !== undefined ? { feeAmountCents } : {}),
      ...(feePaymentWorkingDays !== undefined ? { feePaymentWorkingDays } : {}),
    }),
  });
  host.start();
  return host.body();
}

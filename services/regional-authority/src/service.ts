import type { Policy } from '@passerelle/procedure';
import { type BodyService, type HostedServiceConfig, ServiceHost } from '@passerelle/service-host';
import { DEFAULT_REGION_TIME_LIMITS, type RegionDossier, type RegionTimeLimits } from './rules.js';
import { type RegionEvent, regionTable } from './table.js';

/** Settings of {@link createRegionalAuthorityService}. */
export interface RegionalAuthorityConfig extends HostedServiceConfig {
  /** Automatic decisions (e.g. `automaticRegionPolicy`); none by default: a case officer decides the work. */
  policy?: Policy<RegionDossier>;
  /** Review and response delays (default 2 and 15 working days). */
  timeLimits?: Partial<RegionTimeLimits>;
}

/** A running regional authority service hosting one or more of the four regions. */
export type RegionalAuthorityService = BodyService<RegionDossier>;

/**
 * Starts the regional authority: completeness and admissibility of applications (Art. 105/45, 105/50,
 * 105/56, 105/61), the work-authorisation decision a case officer takes (Art. 105/46 §2, `decide-work`),
 * and the dossier's follow-up.
 *
 * @example
 * ```ts
 * const region = await createRegionalAuthorityService({ participants: [keysVlaanderen, keysBruxelles], directory, contracts, servers });
 * await region.act('region-bruxelles', dossierId, 'decide-work', { decision: 'refused', reason: 'labour-market' }, officer);
 * ```
 */
export async function createRegionalAuthorityService(
  config: RegionalAuthorityConfig,
): Promise<RegionalAuthorityService> {
  const { timeLimits, ...hosted } = config;
  const host = await ServiceHost.open<RegionDossier, RegionEvent>({
    ...hosted,
    service: 'regional-authority',
    kind: 'regional-authority',
    table: regionTable({ ...DEFAULT_REGION_TIME_LIMITS, ...timeLimits }),
  });
  host.start();
  return host.body();
}

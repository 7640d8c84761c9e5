import { PasserelleError, isPasserelleError } from '@passerelle/errors';
import { DossierStore, type Period, type Policy } from '@passerelle/procedure';
import {
  type BodyService,
  type HostedServiceConfig,
  RECORD_PURPOSES,
  ServiceHost,
  openBucket,
} from '@passerelle/service-host';
import {
  DEFAULT_REGION_TIME_LIMITS,
  type IctStayRecord,
  type RegionDossier,
  type RegionTimeLimits,
} from './rules.js';
import {
  ICT_STAYS_LOOKUP,
  ICT_STAY_EFFECT,
  type RecordIctStay,
  type RegionEvent,
  regionTable,
} from './table.js';

/** Settings of {@link createRegionalAuthorityService}. */
export interface RegionalAuthorityConfig extends HostedServiceConfig {
  /** Automatic decisions (e.g. `automaticRegionPolicy`); none by default: a case officer decides the work. */
  policy?: Policy<RegionDossier>;
  /** Review and response delays (default 2 and 15 working days). */
  timeLimits?: Partial<RegionTimeLimits>;
  /** KV bucket of the ICT stay register (default `svc-regional-authority-ict-stays`). */
  ictStaysBucket?: string;
}

/** What a stay is sealed for: the register entry it belongs to (a stay moved to another entry does not open). */
function stayName(key: string): string {
  return `ict-stay ${key}`;
}

/** A running regional authority service hosting one or more of the four regions. */
export type RegionalAuthorityService = BodyService<RegionDossier>;

/**
 * A transferee's entry in the ICT stay register: the periods granted, by dossier. With dossier keys on, each
 * period is sealed under its own dossier's key (a string), so that erasing one dossier erases its stay and
 * leaves the others.
 */
interface IctStayEntry {
  stays: Record<string, Period | string>;
}

/**
 * Starts the regional authority: completeness and admissibility of applications (Art. 105/45, 105/50,
 * 105/56, 105/61), the work-authorisation decision a case officer takes (Art. 105/46 §2, `decide-work`),
 * and the dossier's follow-up. It keeps a register of the ICT periods it granted, filed under a pseudonym
 * of the transferee, so that a renewal or a new transfer counts them towards the maximum (Art. 31 16°, 17°).
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
  const { timeLimits, ictStaysBucket, ...hosted } = config;
  // assigned once the host's connection is open, before the host handles anything
  const store: { register?: DossierStore<IctStayEntry> } = {};
  const noSend = (): Promise<void> => Promise.resolve();
  const host = await ServiceHost.open<RegionDossier, RegionEvent>({
    ...hosted,
    service: 'regional-authority',
    kind: 'regional-authority',
    table: regionTable({ ...DEFAULT_REGION_TIME_LIMITS, ...timeLimits }),
    lookups: {
      [ICT_STAYS_LOOKUP]: async (regionId, identity): Promise<IctStayRecord> => {
        const [key] = host.pseudonyms(regionId, RECORD_PURPOSES['ict-stays'], identity) as [string];
        const entry = await store.register!.get(regionId, key);
        const stays: Period[] = [];
        for (const [dossierId, stay] of Object.entries(entry?.stays ?? {})) {
          const period = await openStay(regionId, key, dossierId, stay);
          if (period) stays.push(period);
        }
        return { key, stays };
      },
    },
    effects: {
      [ICT_STAY_EFFECT]: async (regionId, effect) => {
        const { key, dossierId, period } = effect.arg as RecordIctStay;
        const dossierKeys = host.dossierKeysOf(regionId);
        const stay = dossierKeys ? await dossierKeys.sealRecord(dossierId, stayName(key), period) : period;
        // keyed by dossier: a step decided again writes the same period once
        await store.register!.apply(
          regionId,
          key,
          `ict-stay:${dossierId}:${period.from}:${period.to}`,
          (cur) => ({ state: { stays: { ...cur?.stays, [dossierId]: stay } } }),
          noSend,
        );
      },
    },
  });
  // The register is sealed like the dossiers, under the region's storage keys; opened before the host
  // handles anything (the steps above read and write it).
  const kv = await openBucket(
    host.exchange(host.participants[0]!).nc,
    ictStaysBucket ?? 'svc-regional-authority-ict-stays',
    config,
  );
  /** A stay as the register keeps it, opened: none once its dossier was erased. */
  async function openStay(
    regionId: string,
    key: string,
    dossierId: string,
    stay: Period | string,
  ): Promise<Period | undefined> {
    if (typeof stay !== 'string') return stay;
    const dossierKeys = host.dossierKeysOf(regionId);
    // a stay this region sealed cannot be left out of the count: without its keys the total is unknown
    if (!dossierKeys) {
      throw new PasserelleError(
        'ERR_DOSSIER_KEY_UNAVAILABLE',
        'An ICT stay of the register is sealed under its dossier key, and dossier keys are off for this region.',
        { details: { dossierId } },
      );
    }
    try {
      return (await dossierKeys.openRecord(dossierId, stayName(key), stay)) as Period;
    } catch (err) {
      if (isPasserelleError(err, 'ERR_DOSSIER_ERASED')) return undefined;
      throw err;
    }
  }
  store.register = new DossierStore<IctStayEntry>(kv, {
    cipher: (regionId) => host.stateCipher(regionId, RECORD_PURPOSES['ict-stays']),
  });
  host.start();
  return host.body();
}

import { isPasserelleError } from '@passerelle/errors';
import { DossierStore } from '@passerelle/procedure';
import {
  type BodyService,
  type HostedServiceConfig,
  RECORD_PURPOSES,
  ServiceHost,
  openBucket,
} from '@passerelle/service-host';
import type { CommuneDossier, RegisteredPermit } from './rules.js';
import { type CommuneEvent, type RegisterPermit, communeTable } from './table.js';

/** Settings of {@link createCommuneService}. */
export interface CommuneConfig extends HostedServiceConfig {
  /** KV bucket of the foreigners' register (default `svc-commune-register`). */
  registerBucket?: string;
}

/** The dossier a register record's permit came from (none for a permit entered from outside the exchange). */
function permitDossier(record: unknown): string | undefined {
  return (record as { state?: RegisteredPermit }).state?.dossierId;
}

/** A running commune service hosting one or more communes: the body's service and the register. */
export interface CommuneService extends BodyService<CommuneDossier> {
  /** Enters a permit issued outside the exchange into the register (so its renewal can name it). */
  importPermit(communeId: string, passportNumber: string, permit: RegisteredPermit): Promise<void>;
  /** The register entry of a holder. */
  registeredPermit(communeId: string, passportNumber: string): Promise<RegisteredPermit | undefined>;
}

/**
 * Starts the communes: annex 46 copies received (Art. 105/46, 105/52; a renewal's permit renewed without
 * delay, Art. 105/52 §2, 105/63 §2), and the desk's actions: the arrival and annex 49 (`register-arrival`,
 * Art. 105/47 §2, 105/58), its extension (`extend-provisional`), the permit (`issue-permit`, annexes 60 /
 * 61), the renewal-pending attestation (`attest-renewal-pending`, Art. 33 §6); and the end of stay. The
 * commune decides nothing a person must decide: it has no policy.
 *
 * @example
 * ```ts
 * const communes = await createCommuneService({ participants: [bruxellesKeys, antwerpenKeys], directory, contracts, servers });
 * await communes.act('commune-21004', dossierId, 'register-arrival', { enteredOn: '2027-04-01' }, clerk);
 * ```
 */
export async function createCommuneService(config: CommuneConfig): Promise<CommuneService> {
  const { registerBucket, ...hosted } = config;
  const host: ServiceHost<CommuneDossier, CommuneEvent> = await ServiceHost.open({
    ...hosted,
    service: 'commune',
    kind: 'commune',
    table: communeTable(),
    lookups: {
      'registered-permit': async (communeId, passport): Promise<RegisteredPermit | undefined> =>
        (await filed(communeId, passport)).permit,
    },
    effects: {
      'register-permit': async (communeId, effect) => {
        const { passport, entry } = effect.arg as RegisterPermit;
        await enter(communeId, passport, entry);
      },
    },
  });
  // The register is keyed by a pseudonym of the passport number and encrypted like the dossiers: under the
  // commune's storage keys, and under the key of the dossier the permit came from, so that erasing that
  // dossier erases its register entry; it is opened on the host's connection, before the host handles
  // anything (the steps above read and write it).
  const registerKv = await openBucket(
    host.exchange(host.participants[0]!).nc,
    registerBucket ?? 'svc-commune-register',
    config,
  );
  const register = new DossierStore<RegisteredPermit>(registerKv, {
    cipher: (communeId) => host.holderRecordCipher(communeId, RECORD_PURPOSES.register, permitDossier),
  });
  const noSend = (): Promise<void> => Promise.resolve();

  /**
   * The holder's register record and the key it is filed under. A record an earlier release filed under a
   * pseudonym derived from the signing key (LEGACY) is moved to the current pseudonym when found.
   */
  async function filed(
    communeId: string,
    passport: string,
  ): Promise<{ key: string; permit: RegisteredPermit | undefined }> {
    const [key, ...legacy] = host.pseudonyms(communeId, RECORD_PURPOSES.register, passport) as [
      string,
      ...string[],
    ];
    const permit = await register.get(communeId, key).catch(async (err: unknown) => {
      // the permit's dossier was erased: so is its entry, and the holder has none
      if (!isPasserelleError(err, 'ERR_DOSSIER_ERASED')) throw err;
      await registerKv.purge(`${communeId}.${key}`);
      return undefined;
    });
    if (permit !== undefined) return { key, permit };
    for (const old of legacy) {
      const found = await register.get(communeId, old);
      if (found === undefined) continue;
      await register.apply(communeId, key, `moved:${old}`, () => ({ state: found }), noSend);
      await registerKv.purge(`${communeId}.${old}`);
      host.logger.warn({ participant: communeId }, 'LEGACY: a register entry moved to its current pseudonym');
      return { key, permit: found };
    }
    return { key, permit: undefined };
  }

  async function enter(communeId: string, passport: string, entry: RegisteredPermit): Promise<void> {
    await register.apply(
      communeId,
      (await filed(communeId, passport)).key,
      `permit:${entry.permitNumber}`,
      () => ({ state: entry }),
      noSend,
    );
  }

  host.start();
  return {
    ...host.body(),
    async importPermit(communeId, passportNumber, permit) {
      host.exchange(communeId);
      await enter(communeId, passportNumber, permit);
    },
    registeredPermit: async (communeId, passportNumber) => (await filed(communeId, passportNumber)).permit,
  };
}

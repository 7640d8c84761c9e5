import { randomUUID } from 'node:crypto';
import {
  type ArrivalRegistered,
  type DocumentRef,
  DossierStore,
  type IsoDate,
  type PendingMessage,
  type PermitKind,
  type Period,
  ProcedureError,
  type ResidenceDecided,
  type StayEnded,
  type StepResult,
  assertStep,
  toIsoDate,
} from '@passerelle/procedure';
import { type HostedServiceConfig, RECORD_PURPOSES, ServiceHost, openBucket } from '@passerelle/service-host';
import {
  type CommuneDossier,
  type CommuneGrant,
  type CommuneRouting,
  type RegisteredPermit,
  attestRenewalPending,
  extendProvisional,
  issuePermit,
  registerArrival,
  renewPermit,
} from './rules.js';

/** Settings of {@link createCommuneService}. */
export interface CommuneConfig extends HostedServiceConfig {
  /** KV bucket of the foreigners' register (default `svc-commune-register`). */
  registerBucket?: string;
}

/** The annex 46 the person presents at the desk when the commune did not receive its copy. */
export interface PresentedAnnex46 extends CommuneRouting {
  period: Period;
  permitToIssue: PermitKind;
  decidedOn: IsoDate;
}

/** A running commune service hosting one or more communes. */
export interface CommuneService {
  readonly participants: readonly string[];
  dossier(communeId: string, dossierId: string): Promise<CommuneDossier | undefined>;
  /** Art. 105/47 §2, 105/58: registers the arrival and issues the annex 49 at once. */
  registerArrival(
    communeId: string,
    dossierId: string,
    input: {
      enteredOn: IsoDate;
      reportedOn?: IsoDate;
      address?: ArrivalRegistered['address'];
      presented?: PresentedAnnex46;
    },
  ): Promise<CommuneDossier>;
  /** Extends the dossier's annex 49 (45 days until the permit; 30 days once for a renewal pending). */
  extendProvisionalDocument(communeId: string, dossierId: string): Promise<CommuneDossier>;
  /** Issues the permit (annex 60 / 61 / single permit) for the authorised stay. */
  issuePermit(communeId: string, dossierId: string): Promise<CommuneDossier>;
  /** Art. 33 §6: the annex 49 renewal-pending attestation, on the expired permit and the admissibility document. */
  attestRenewalPending(
    communeId: string,
    dossierId: string,
    input: {
      expiredPermitNumber: string;
      admissibilityDocument: DocumentRef;
      passportNumber?: string;
      regionId: string;
      portalId?: string;
    },
  ): Promise<CommuneDossier>;
  /** Enters a permit issued outside the exchange into the register (so its renewal can name it). */
  importPermit(communeId: string, passportNumber: string, permit: RegisteredPermit): Promise<void>;
  /** The register entry of a holder. */
  registeredPermit(communeId: string, passportNumber: string): Promise<RegisteredPermit | undefined>;
  close(): Promise<void>;
}

const OE = 'immigration-office';

/**
 * Starts the communes: annex 46 copies received (Art. 105/46, 105/52), arrival registration and annex 49
 * (Art. 105/47 §2, 105/58), permits (annexes 60 / 61), renewals without delay (Art. 105/52 §2, 105/63 §2),
 * the renewal-pending attestation (Art. 33 §6) and the end of stay. The desk actions are methods; the
 * automatic steps (renewal on annex 46) run on the message.
 *
 * @example
 * ```ts
 * const communes = await createCommuneService({ participants: [bruxellesKeys, antwerpenKeys], directory, contracts, servers });
 * await communes.registerArrival('commune-21004', dossierId, { enteredOn: '2027-04-01' });
 * ```
 */
export async function createCommuneService(config: CommuneConfig): Promise<CommuneService> {
  const host = await ServiceHost.open<CommuneDossier>('commune', 'commune', config);
  const registerKv = await openBucket(
    host.exchange(host.participants[0]!).nc,
    config.registerBucket ?? 'svc-commune-register',
    config,
  );
  // The register is keyed by a pseudonym of the passport number and encrypted like the dossiers, both
  // under the commune's storage keys.
  const register = new DossierStore<RegisteredPermit>(registerKv, {
    cipher: (communeId) => host.stateCipher(communeId, RECORD_PURPOSES.register),
  });
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
    const permit = await register.get(communeId, key);
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
  const noSend = (): Promise<void> => Promise.resolve();
  const today = (): string => toIsoDate(host.now());

  const recipients = (routing: CommuneRouting): string[] => [
    OE,
    ...(routing.regionId ? [routing.regionId] : []),
    ...(routing.portalId ? [routing.portalId] : []),
  ];

  async function enter(
    communeId: string,
    passport: string | undefined,
    entry: RegisteredPermit,
  ): Promise<void> {
    if (!passport) return;
    await register.apply(
      communeId,
      (await filed(communeId, passport)).key,
      `permit:${entry.permitNumber}`,
      () => ({ state: entry }),
      noSend,
    );
  }

  async function renew(
    communeId: string,
    dossierId: string,
    dossier: CommuneDossier,
    grant: CommuneGrant,
    causationId: string | null,
    correlationId?: string,
  ): Promise<StepResult<CommuneDossier>> {
    const registered = dossier.holderPassport
      ? (await filed(communeId, dossier.holderPassport)).permit
      : undefined;
    const previous = registered?.permitNumber ?? dossier.expiredPermitNumber;
    if (!previous) {
      throw new ProcedureError(
        'ERR_OUT_OF_SEQUENCE',
        `Dossier ${dossierId}: no permit on the register to renew.`,
        {
          details: { dossierId, step: 'renew-permit' },
        },
      );
    }
    const payload = renewPermit(communeId, dossierId, grant, previous, today());
    await enter(communeId, dossier.holderPassport, {
      permit: payload.permit,
      permitNumber: payload.permitNumber,
      validity: payload.validity,
      dossierId,
    });
    return {
      state: {
        ...dossier,
        phase: 'permit-issued',
        grant,
        permit: {
          kind: payload.permit,
          number: payload.permitNumber,
          validity: payload.validity,
          previousNumber: previous,
        },
      },
      send: [
        {
          type: 'permit-renewed',
          payload,
          to: recipients(dossier.routing),
          causationId,
          ...(correlationId ? { correlationId } : {}),
        },
      ],
    };
  }

  host.subscribe({
    'residence-decided': async (m, communeId) => {
      await host.apply(communeId, m.meta.dossierId, m, async (cur) => {
        assertStep('commune', cur?.phase, 'residence-decided', m.meta.dossierId);
        const decision = m.payload as ResidenceDecided;
        if (decision.annex !== '46') {
          throw new ProcedureError(
            'ERR_OUT_OF_SEQUENCE',
            `A commune acts on annex 46 only (dossier ${m.meta.dossierId}).`,
            {
              details: { dossierId: m.meta.dossierId, step: 'residence-decided', annex: decision.annex },
            },
          );
        }
        const g = decision;
        // Permits are issued and renewed on the annex 46 itself: the Office's copy must read back and say so.
        await host.checkDecisionDocument(communeId, g.decisionDocument, {
          document: '46',
          dossierId: m.meta.dossierId,
          issuer: m.meta.sender,
          period: g.period,
          outcome: 'granted',
        });
        const grant: CommuneGrant = {
          period: g.period,
          permitToIssue: g.permitToIssue,
          visaRequired: g.visaRequired,
          decidedOn: g.decidedOn,
        };
        const routing: CommuneRouting = {
          ...cur?.routing,
          ...(g.procedure ? { procedure: g.procedure } : {}),
          ...(g.regionId ? { regionId: g.regionId } : {}),
          ...(g.portalId ? { portalId: g.portalId } : {}),
        };
        const passport = g.holder?.passportNumber ?? cur?.holderPassport;
        const base: CommuneDossier = {
          ...(cur ?? { phase: 'annex-46-received' }),
          routing,
          grant,
          ...(passport ? { holderPassport: passport } : {}),
        };
        // Without the procedure in the annex (older senders), a permit on the register means a renewal.
        const renewal =
          g.procedure === 'renewal' ||
          cur?.phase === 'renewal-pending' ||
          (g.procedure === undefined &&
            passport !== undefined &&
            (await filed(communeId, passport)).permit !== undefined);
        if (renewal) return renew(communeId, m.meta.dossierId, base, grant, m.meta.id, m.meta.correlationId);
        return { state: { ...base, phase: 'annex-46-received' } };
      });
    },
    'stay-ended': async (m, communeId) => {
      await host.apply(communeId, m.meta.dossierId, m, async (cur) => {
        assertStep('commune', cur?.phase, 'stay-ended', m.meta.dossierId);
        const ended = m.payload as StayEnded;
        await host.checkDecisionDocument(communeId, ended.decisionDocument, {
          document: '52',
          dossierId: m.meta.dossierId,
          issuer: m.meta.sender,
          outcome: `ended:${ended.reason}`,
        });
        return { state: { ...cur!, phase: 'closed' } };
      });
    },
  });

  const desk = (
    communeId: string,
    dossierId: string,
    action: string,
    step: Parameters<typeof host.apply>[3],
  ): Promise<CommuneDossier> =>
    host.apply(communeId, dossierId, `${action}:${randomUUID()}`, async (cur) => {
      const result = await step(cur);
      host.emit({ participant: communeId, dossierId, kind: 'notice', type: action });
      return result;
    });

  return {
    participants: host.participants,
    dossier: (communeId, dossierId) => host.store.get(communeId, dossierId),
    registerArrival(communeId, dossierId, input) {
      return desk(communeId, dossierId, 'register-arrival', (cur) => {
        assertStep('commune', cur?.phase, 'register-arrival', dossierId);
        const presented = input.presented;
        const grant: CommuneGrant | undefined =
          cur?.grant ??
          (presented
            ? {
                period: presented.period,
                permitToIssue: presented.permitToIssue,
                visaRequired: true,
                decidedOn: presented.decidedOn,
              }
            : undefined);
        if (!grant) {
          throw new ProcedureError(
            'ERR_OUT_OF_SEQUENCE',
            `Dossier ${dossierId}: no annex 46 received or presented.`,
            {
              details: { dossierId, step: 'register-arrival' },
            },
          );
        }
        const routing: CommuneRouting = cur?.routing ?? {
          ...(presented?.procedure ? { procedure: presented.procedure } : {}),
          ...(presented?.regionId ? { regionId: presented.regionId } : {}),
          ...(presented?.portalId ? { portalId: presented.portalId } : {}),
        };
        if (routing.procedure === 'renewal') {
          throw new ProcedureError(
            'ERR_OUT_OF_SEQUENCE',
            `Dossier ${dossierId} is a renewal: no arrival to register.`,
            {
              details: { dossierId, step: 'register-arrival' },
            },
          );
        }
        const reg = registerArrival(communeId, dossierId, {
          enteredOn: input.enteredOn,
          reportedOn: input.reportedOn ?? today(),
          ...(input.address ? { address: input.address } : {}),
        });
        if (!reg.arrival.inTime) {
          host.emit({
            participant: communeId,
            dossierId,
            kind: 'deadline',
            type: 'arrival-report',
            detail: `Art. 105/47 §2: reported after the 8 working days (deadline ${reg.arrival.deadline})`,
          });
        }
        const send: PendingMessage[] = [
          { type: 'arrival-registered', payload: reg.payload, to: [OE], causationId: null },
        ];
        return {
          state: {
            ...(cur ?? {}),
            phase: 'arrived',
            routing,
            grant,
            arrival: reg.arrival,
            provisional: reg.provisional,
          },
          send,
        };
      });
    },
    extendProvisionalDocument(communeId, dossierId) {
      return desk(communeId, dossierId, 'extend-provisional', (cur) => {
        assertStep('commune', cur?.phase, 'extend-provisional', dossierId);
        const ext = extendProvisional(cur!, dossierId, today());
        return {
          state: { ...cur!, provisional: ext.provisional },
          send: [
            { type: 'provisional-document-extended', payload: ext.payload, to: [OE], causationId: null },
          ],
        };
      });
    },
    issuePermit(communeId, dossierId) {
      return desk(communeId, dossierId, 'issue-permit', async (cur) => {
        assertStep('commune', cur?.phase, 'issue-permit', dossierId);
        const payload = issuePermit(communeId, dossierId, cur!.grant!, today());
        await enter(communeId, cur!.holderPassport, {
          permit: payload.permit,
          permitNumber: payload.permitNumber,
          validity: payload.validity,
          dossierId,
        });
        return {
          state: {
            ...cur!,
            phase: 'permit-issued',
            permit: { kind: payload.permit, number: payload.permitNumber, validity: payload.validity },
          },
          send: [{ type: 'permit-issued', payload, to: recipients(cur!.routing), causationId: null }],
        };
      });
    },
    attestRenewalPending(communeId, dossierId, input) {
      return desk(communeId, dossierId, 'attest-renewal-pending', async (cur) => {
        assertStep('commune', cur?.phase, 'attest-renewal-pending', dossierId);
        // the document presented must be the region's admissibility document of this dossier
        await host.checkDecisionDocument(communeId, input.admissibilityDocument, {
          document: 'admissibility',
          dossierId,
          issuer: input.regionId,
          outcome: 'complete',
        });
        const passport = input.passportNumber ?? cur?.holderPassport;
        const registered = passport ? (await filed(communeId, passport)).permit : undefined;
        const att = attestRenewalPending(
          communeId,
          dossierId,
          {
            expiredPermitNumber: input.expiredPermitNumber,
            admissibilityDocument: input.admissibilityDocument,
            ...(registered ? { registered } : {}),
          },
          today(),
        );
        const routing: CommuneRouting = {
          ...cur?.routing,
          procedure: 'renewal',
          regionId: input.regionId,
          ...(input.portalId ? { portalId: input.portalId } : {}),
        };
        return {
          state: {
            ...(cur ?? {}),
            phase: 'renewal-pending',
            routing,
            ...(passport ? { holderPassport: passport } : {}),
            expiredPermitNumber: input.expiredPermitNumber,
            provisional: att.provisional,
          },
          send: [
            {
              type: 'renewal-pending-attested',
              payload: att.payload,
              to: [OE, input.regionId],
              causationId: null,
            },
          ],
        };
      });
    },
    async importPermit(communeId, passportNumber, permit) {
      host.exchange(communeId);
      await enter(communeId, passportNumber, permit);
    },
    registeredPermit: async (communeId, passportNumber) => (await filed(communeId, passportNumber)).permit,
    close: () => host.close(),
  };
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from '@passerelle/exchange';
import {
  type ApplicationSubmitted,
  type DecisionDocument,
  type DocumentKind,
  type DocumentRef,
  type DocumentsAdded,
  type FeeProofSubmitted,
  type PendingMessage,
  type ResidenceDecided,
  type StepResult,
  assertStep,
  pendingDocuments,
  toIsoDate,
} from '@passerelle/procedure';
import { type HostedServiceConfig, ServiceHost } from '@passerelle/service-host';
import {
  DEFAULT_REGION_TIME_LIMITS,
  type RegionDossier,
  type RegionTimeLimits,
  type WorkDecision,
  automaticWorkDecision,
  completenessRuling,
  openDossier,
  phaseAfterRuling,
  providedKinds,
  workAuthorisationPayload,
} from './rules.js';

/** What the case officer's policy sees of a dossier awaiting its work-authorisation decision. */
export interface WorkDecisionInput {
  regionId: string;
  dossierId: string;
  dossier: Readonly<RegionDossier>;
}

/**
 * The human decisions of a regional authority. Return `undefined` to leave the decision to a case officer,
 * who takes it later with {@link RegionalAuthorityService.decideWorkAuthorisation}.
 */
export interface RegionDecisionPolicy {
  workAuthorisation(input: WorkDecisionInput): WorkDecision | undefined | Promise<WorkDecision | undefined>;
}

/** The default policy: grant the requested period within the legal maxima (so the demo runs end to end). */
export const automaticRegionPolicy: RegionDecisionPolicy = {
  workAuthorisation: ({ dossier }) => automaticWorkDecision(dossier),
};

/** Settings of {@link createRegionalAuthorityService}. */
export interface RegionalAuthorityConfig extends HostedServiceConfig {
  /** Case-officer decisions (default {@link automaticRegionPolicy}). */
  decide?: RegionDecisionPolicy;
  /** Review and response delays (default 2 and 15 working days). */
  timeLimits?: Partial<RegionTimeLimits>;
}

/** A running regional authority service hosting one or more of the four regions. */
export interface RegionalAuthorityService {
  readonly participants: readonly string[];
  /** The dossier state kept by a hosted region. */
  dossier(regionId: string, dossierId: string): Promise<RegionDossier | undefined>;
  /** A case officer's decision on a dossier left pending by the policy. */
  decideWorkAuthorisation(
    regionId: string,
    dossierId: string,
    decision: WorkDecision,
  ): Promise<RegionDossier>;
  /**
   * Rules on the dossiers whose waiting time ran out by `at` (default now), all of them or those named;
   * returns how many changed.
   */
  checkDeadlines(at?: Date, options?: { dossierIds?: readonly string[] }): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts the regional authority: completeness and admissibility of applications (Art. 105/45, 105/50,
 * 105/56, 105/61), the work-authorisation decision (Art. 105/46 §2), and the dossier's follow-up.
 *
 * @example
 * ```ts
 * const region = await createRegionalAuthorityService({ participants: [keysVlaanderen, keysBruxelles], directory, contracts, servers });
 * ```
 */
export async function createRegionalAuthorityService(
  config: RegionalAuthorityConfig,
): Promise<RegionalAuthorityService> {
  const host = await ServiceHost.open<RegionDossier>('regional-authority', 'regional-authority', config);
  const policy = config.decide ?? automaticRegionPolicy;
  const limits: RegionTimeLimits = { ...DEFAULT_REGION_TIME_LIMITS, ...config.timeLimits };
  const today = (): string => toIsoDate(host.now());

  /** Moves a dossier as far as the rules allow: ruling, then the work decision. */
  async function progress(
    dossier: RegionDossier,
    regionId: string,
    dossierId: string,
    on: string,
    causationId: string | null,
  ): Promise<StepResult<RegionDossier>> {
    const send: PendingMessage[] = [];
    let next = dossier;
    const context = { ...next.routing } as Record<string, unknown>;
    if (next.phase === 'received' || next.phase === 'awaiting-items') {
      const docs: DecisionDocument[] = [];
      const ruling = completenessRuling(next, regionId, dossierId, on, limits, docs);
      if (ruling) {
        send.push({
          type: 'completeness-ruled',
          payload: ruling,
          context,
          causationId,
          ...pendingDocuments(docs),
        });
        next = {
          ...next,
          phase: phaseAfterRuling(ruling),
          ...(ruling.outcome === 'complete' ? { admissibilityDocument: ruling.admissibilityDocument } : {}),
          ...(ruling.outcome === 'missing-items'
            ? { missing: ruling.missingItems, respondBy: ruling.respondBy }
            : {}),
          ...(ruling.outcome === 'inadmissible' ? { closedBecause: `inadmissible:${ruling.reason}` } : {}),
        };
      }
    }
    if (next.phase === 'admissible' && !next.work) {
      const decision = await policy.workAuthorisation({ regionId, dossierId, dossier: next });
      if (decision) {
        const docs: DecisionDocument[] = [];
        const payload = workAuthorisationPayload(next, decision, regionId, dossierId, on, docs);
        send.push({
          type: 'work-authorisation-decided',
          payload,
          context,
          causationId,
          ...pendingDocuments(docs),
        });
        next = {
          ...next,
          phase: 'work-decided',
          work:
            payload.decision === 'granted'
              ? { decision: 'granted', period: payload.period }
              : { decision: 'refused', reason: payload.reason },
        };
      }
    }
    return { state: next, send };
  }

  /**
   * The document kinds a payload provides: every filled slot whose document reads back
   * ({@link ServiceHost.documentReadsBack}); one that does not stays a missing item.
   */
  async function providedDocuments(
    documents: Record<string, unknown>,
    regionId: string,
    dossierId: string,
  ): Promise<DocumentKind[]> {
    const readable: DocumentKind[] = [];
    for (const kind of providedKinds(documents)) {
      const slot = documents[kind] as DocumentRef | { document: DocumentRef };
      const ref = 'document' in slot ? slot.document : slot;
      if (await host.documentReadsBack(regionId, ref, { dossierId, slot: kind })) readable.push(kind);
    }
    return readable;
  }

  const step =
    (type: string, apply: (cur: RegionDossier, m: IncomingMessage, regionId: string) => RegionDossier) =>
    async (m: IncomingMessage, regionId: string): Promise<void> => {
      await host.apply(regionId, m.meta.dossierId, m, (cur) => {
        assertStep('regional-authority', cur?.phase, type, m.meta.dossierId);
        return progress(apply(cur!, m, regionId), regionId, m.meta.dossierId, today(), m.meta.id);
      });
    };
  const record =
    (type: string, apply: (cur: RegionDossier, m: IncomingMessage) => RegionDossier) =>
    async (m: IncomingMessage, regionId: string): Promise<void> => {
      await host.apply(regionId, m.meta.dossierId, m, (cur) => {
        assertStep('regional-authority', cur?.phase, type, m.meta.dossierId);
        return { state: apply(cur!, m) };
      });
    };

  host.subscribe({
    'application-submitted': async (m, regionId) => {
      const app = m.payload as ApplicationSubmitted;
      // read before the state update, which may run again on a conflict
      const documents = await providedDocuments(
        app.documents as Record<string, unknown>,
        regionId,
        m.meta.dossierId,
      );
      await host.apply(regionId, m.meta.dossierId, m, (cur) => {
        assertStep('regional-authority', cur?.phase, 'application-submitted', m.meta.dossierId);
        const opened = openDossier(app, regionId, m.meta.sender, today(), limits, documents);
        return progress(opened, regionId, m.meta.dossierId, today(), m.meta.id);
      });
    },
    'documents-added': async (m, regionId) => {
      const added = await providedDocuments(
        (m.payload as DocumentsAdded).documents as Record<string, unknown>,
        regionId,
        m.meta.dossierId,
      );
      await step('documents-added', (cur) => ({
        ...cur,
        documents: [...new Set([...cur.documents, ...added])],
      }))(m, regionId);
    },
    'fee-proof-submitted': async (m, regionId) => {
      // a proof whose document does not read back is no proof: the ruling asks for it again
      const readable = await host.documentReadsBack(regionId, (m.payload as FeeProofSubmitted).proof, {
        dossierId: m.meta.dossierId,
        slot: 'fee-proof',
      });
      await step('fee-proof-submitted', (cur) => ({ ...cur, feeProof: cur.feeProof || readable }))(
        m,
        regionId,
      );
    },
    // The Immigration Office checks the amount (Art. 1/2/1); the region only notes the request.
    'fee-payment-requested': record('fee-payment-requested', (cur) => cur),
    'residence-decided': record('residence-decided', (cur, m) => {
      const annex = (m.payload as ResidenceDecided).annex;
      return annex === '46'
        ? { ...cur, phase: 'granted', residence: annex }
        : { ...cur, phase: 'closed', residence: annex, closedBecause: `annex-${annex}` };
    }),
    'renewal-pending-attested': record('renewal-pending-attested', (cur) => ({
      ...cur,
      renewalPendingAttested: true,
    })),
    'permit-issued': record('permit-issued', (cur) => ({
      ...cur,
      phase: 'permit-issued',
      permitIssued: true,
    })),
    'permit-renewed': record('permit-renewed', (cur) => ({
      ...cur,
      phase: 'permit-issued',
      permitIssued: true,
    })),
    'stay-ended': record('stay-ended', (cur) => ({ ...cur, phase: 'closed', closedBecause: 'annex-52' })),
  });

  return {
    participants: host.participants,
    dossier: (regionId, dossierId) => host.store.get(regionId, dossierId),
    async decideWorkAuthorisation(regionId, dossierId, decision) {
      return host.apply(regionId, dossierId, `decide-work:${randomUUID()}`, async (cur) => {
        assertStep('regional-authority', cur?.phase, 'decide-work', dossierId);
        const on = today();
        const docs: DecisionDocument[] = [];
        const payload = workAuthorisationPayload(cur!, decision, regionId, dossierId, on, docs);
        const next: RegionDossier = {
          ...cur!,
          phase: 'work-decided',
          work:
            payload.decision === 'granted'
              ? { decision: 'granted', period: payload.period }
              : { decision: 'refused', reason: payload.reason },
        };
        host.emit({
          participant: regionId,
          dossierId,
          kind: 'notice',
          type: 'decide-work',
          detail: payload.decision,
        });
        return Promise.resolve({
          state: next,
          send: [
            {
              type: 'work-authorisation-decided',
              payload,
              context: { ...cur!.routing },
              causationId: null,
              ...pendingDocuments(docs),
            },
          ],
        });
      });
    },
    async checkDeadlines(at = host.now(), options = {}) {
      const on = toIsoDate(at);
      let changed = 0;
      for await (const { participant, dossierId, state } of host.store.list()) {
        if (state.phase !== 'received' && state.phase !== 'awaiting-items') continue;
        if (options.dossierIds && !options.dossierIds.includes(dossierId)) continue;
        const before = state.phase;
        const after = await host.scanStep(participant, dossierId, () =>
          host.apply(participant, dossierId, `review:${on}:${before}`, (cur) => {
            if (cur?.phase !== before) return { state: cur! };
            return progress(cur, participant, dossierId, on, null);
          }),
        );
        if (after && after.phase !== before) changed += 1;
      }
      return changed;
    },
    close: () => host.close(),
  };
}

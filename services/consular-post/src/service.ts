import type { ResidenceDecided } from '@passerelle/procedure';
import { assertStep, toIsoDate } from '@passerelle/procedure';
import { type HostedServiceConfig, ServiceHost } from '@passerelle/service-host';
import { type PostDossier, acceptAnnex46, issueVisa } from './rules.js';

/** Settings of {@link createConsularPostService}. */
export type ConsularPostConfig = HostedServiceConfig;

/** A running consular post service hosting one or more posts. */
export interface ConsularPostService {
  readonly participants: readonly string[];
  dossier(postId: string, dossierId: string): Promise<PostDossier | undefined>;
  close(): Promise<void>;
}

/**
 * Starts the consular posts: on the copy of annex 46 (Art. 105/46 §3) each hosted post issues the long-stay
 * visa without delay (Art. 105/47 §1) and tells the Immigration Office. The annex 46 document the copy
 * references is read back from the decisions store first (`ServiceHost.checkDecisionDocument`): until the
 * Office has stored it the message is redelivered, then dead-lettered with `ERR_DECISION_DOCUMENT_MISSING`.
 *
 * @example
 * ```ts
 * const posts = await createConsularPostService({ participants: [ankaraKeys, lagosKeys], directory, contracts, servers });
 * ```
 */
export async function createConsularPostService(config: ConsularPostConfig): Promise<ConsularPostService> {
  const host = await ServiceHost.open<PostDossier>('consular-post', 'consular-post', config);
  host.subscribe({
    'residence-decided': async (m, postId) => {
      await host.apply(postId, m.meta.dossierId, m, async (cur) => {
        assertStep('consular-post', cur?.phase, 'residence-decided', m.meta.dossierId);
        const grant = acceptAnnex46(m.payload as ResidenceDecided, postId, m.meta.dossierId);
        // The visa is issued on the annex 46 itself: the copy the Office stored must read back and say so.
        await host.checkDecisionDocument(postId, grant.decisionDocument, {
          document: '46',
          dossierId: m.meta.dossierId,
          issuer: m.meta.sender,
          period: grant.period,
          outcome: 'granted',
        });
        const today = toIsoDate(host.now());
        const visa = issueVisa(grant.period, m.meta.dossierId, today);
        return {
          state: {
            phase: 'visa-issued',
            stay: grant.period,
            annex46On: grant.decidedOn,
            visa: { number: visa.visaNumber, issuedOn: visa.issuedOn, validity: visa.validity },
          },
          send: [{ type: 'visa-issued', payload: visa, to: ['immigration-office'], causationId: m.meta.id }],
        };
      });
    },
  });
  return {
    participants: host.participants,
    dossier: (postId, dossierId) => host.store.get(postId, dossierId),
    close: () => host.close(),
  };
}

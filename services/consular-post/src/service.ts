import type { Policy } from '@passerelle/procedure';
import { type BodyService, type HostedServiceConfig, ServiceHost } from '@passerelle/service-host';
import type { PostDossier } from './rules.js';
import { type PostEvent, postTable } from './table.js';

/** Settings of {@link createConsularPostService}. */
export interface ConsularPostConfig extends HostedServiceConfig {
  /** Automatic decisions (e.g. `automaticPostPolicy`); none by default: an officer issues each visa. */
  policy?: Policy<PostDossier>;
}

/** A running consular post service hosting one or more posts. */
export type ConsularPostService = BodyService<PostDossier>;

/**
 * Starts the consular posts: on the copy of annex 46 (Art. 105/46 §3) each hosted post owes the long-stay
 * visa without delay (Art. 105/47 §1), issued by an officer's `issue-visa` action (or by the configured
 * policy), which tells the Immigration Office. The annex 46 document the copy references is read back from
 * the decisions store first: until the Office has stored it the message is redelivered, then dead-lettered
 * with `ERR_DECISION_DOCUMENT_MISSING`.
 *
 * @example
 * ```ts
 * const posts = await createConsularPostService({ participants: [ankaraKeys, lagosKeys], directory, contracts, servers });
 * await posts.act('post-ankara', dossierId, 'issue-visa', {}, { clientId: 'visa-desk', officerId: 'o-17' });
 * ```
 */
export async function createConsularPostService(config: ConsularPostConfig): Promise<ConsularPostService> {
  const host = await ServiceHost.open<PostDossier, PostEvent>({
    ...config,
    service: 'consular-post',
    kind: 'consular-post',
    table: postTable(),
  });
  host.start();
  return host.body();
}

import type { MessageTypeInfo } from './message-type-info.js';

const DAY_MS = 86_400_000;

/**
 * The longest `retentionDays` of the agreement's message types, in milliseconds: how long a store that
 * holds payload bytes of several types (documents, decision documents) may keep them. EXCHANGE applies each
 * type's own retention per message; a store whose objects are not tied to one type keeps them no longer
 * than the longest.
 *
 * @example
 * ```ts
 * const docs = await DocumentStore.open(nc, { maxAgeMs: payloadRetentionMs(contracts) });
 * ```
 */
export function payloadRetentionMs(contracts: { types(): MessageTypeInfo[] }): number {
  const days = Math.max(0, ...contracts.types().map((t) => t.retentionDays));
  return days * DAY_MS;
}

import { type ParticipantKeys, toPublicJwk } from '@passerelle/envelope';
import { type ParticipantEntry, makeEntry } from './entry.js';

/**
 * The entry that publishes a participant's own current keys: its signing key and its encryption keys,
 * public halves only, under its id (and, unless given, its id as its name). What a participant that holds
 * its keys files with the operator, and what tests put in a directory beside the keys they generate.
 *
 * @example
 * ```ts
 * const signed = await signEntry(entryOfKeys(await generateParticipantKeys('auditor')), anchorKey);
 * ```
 */
export function entryOfKeys(
  keys: ParticipantKeys,
  name: string = keys.participantId,
  updatedAt: Date = new Date(),
): ParticipantEntry {
  return makeEntry(
    keys.participantId,
    name,
    [toPublicJwk(keys.signing)],
    keys.encryption.map(toPublicJwk),
    updatedAt,
  );
}

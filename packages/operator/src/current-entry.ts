import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { DIRECTORY_BUCKET, type ParticipantEntry, verifyEntry } from '@passerelle/directory';
import { type PrivateJwk, toPublicJwk } from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';

/** The participant's directory entry as published now, checked against the trust anchor. */
export async function currentEntry(
  operator: NatsConnection,
  participant: string,
  anchorKey: PrivateJwk,
): Promise<ParticipantEntry> {
  const kv = await new Kvm(operator).open(DIRECTORY_BUCKET);
  const stored = await kv.get(participant);
  if (!stored || stored.operation !== 'PUT') {
    throw new PasserelleError('ERR_PARTICIPANT_STATE', `${participant} has no entry in the directory.`, {
      details: { participantId: participant },
    });
  }
  return verifyEntry(stored.string(), toPublicJwk(anchorKey), participant);
}

import { readFileSync } from 'node:fs';
import { participantKind } from '@passerelle/directory';
import { PasserelleError } from '@passerelle/errors';

/**
 * The deployment file (`infra/participants.json`): the participants the exchange starts with, and per
 * participant kind the service state buckets, the object stores it writes and those it only reads. The
 * account design is computed from it and the contract; participants approved later are added to it by
 * the operator's registry, not by editing this file.
 */
export interface DeploymentFile {
  participants: string[];
  serviceBuckets: Record<string, string[]>;
  objectStores: Record<string, string[]>;
  objectStoresRead: Record<string, string[]>;
}

function invalid(file: string, setting: string, problem: string): PasserelleError {
  return new PasserelleError('ERR_CONFIG_INVALID', `${file}: ${setting} ${problem}.`, {
    details: { file, setting },
  });
}

function bucketsByKind(file: string, member: string, value: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (value === undefined) return out;
  if (typeof value !== 'object' || value === null)
    throw invalid(file, member, 'must map kinds to bucket lists');
  for (const [kind, buckets] of Object.entries(value as Record<string, unknown>)) {
    if (
      !Array.isArray(buckets) ||
      !buckets.every((b) => typeof b === 'string' && /^[-_a-zA-Z0-9]+$/.test(b))
    ) {
      throw invalid(file, `${member}.${kind}`, 'must be a list of bucket names');
    }
    out[kind] = buckets as string[];
  }
  return out;
}

/**
 * Reads and checks a deployment file; a bad setting fails with `ERR_CONFIG_INVALID` naming it.
 *
 * @example
 * ```ts
 * const deployment = readDeploymentFile('infra/participants.json');
 * ```
 */
export function readDeploymentFile(file: string): DeploymentFile {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${file}: not a readable JSON deployment file.`, {
      details: { file },
      cause,
    });
  }
  const list = parsed['participants'];
  if (!Array.isArray(list) || list.length === 0) {
    throw invalid(file, 'participants', 'must be a non-empty list of participant ids');
  }
  const participants = list.map(String);
  for (const id of participants) participantKind(id); // a typed error naming a malformed id
  if (new Set(participants).size !== participants.length) {
    throw invalid(file, 'participants', 'lists a participant twice');
  }
  return {
    participants,
    serviceBuckets: bucketsByKind(file, 'serviceBuckets', parsed['serviceBuckets']),
    objectStores: bucketsByKind(file, 'objectStores', parsed['objectStores']),
    objectStoresRead: bucketsByKind(file, 'objectStoresRead', parsed['objectStoresRead']),
  };
}

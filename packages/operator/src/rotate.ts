import { makeEntry, publishNextEntry } from '@passerelle/directory';
import { PasserelleError } from '@passerelle/errors';
import { participantIds, planOf, signAccounts } from './account-set.js';
import { type Approval, type LifecycleOptions, approvalOf, issueUser } from './approve.js';
import { checkCertificateRequest, issueClientCertificate } from './certificates.js';
import { pushAccountJwts } from './claims-push.js';
import { currentEntry } from './current-entry.js';
import { publishedKeys } from './registry.js';
import { activeEntry } from './active-entry.js';
import { endedKeys } from './ended-keys.js';
import { verifyRegistrationRequest } from './registration-request.js';

/** How long the keys being replaced stay valid unless told otherwise: messages in flight still open. */
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 3_600_000;

/**
 * Starts a rotation of a participant's keys from its rotation request (new message keys, a new NATS
 * user key and certificate request, vouched for by its current signing key): its directory entry gets
 * the new keys beside the old ones, which stay valid `overlapMs` more so that messages in flight under
 * them still open; a new user JWT and certificate are issued. The old NATS user keeps working until
 * {@link finishRotation} revokes it, once the body runs on its new credentials.
 */
export async function rotateParticipant(
  participant: string,
  request: unknown,
  options: LifecycleOptions & { overlapMs?: number },
): Promise<Approval> {
  const { home } = options;
  const now = options.now ?? new Date();
  const servers = options.servers ?? (await home.servers());
  const operator = await home.connect('operator', servers);
  try {
    const id = participant;
    const current = await currentEntry(operator, id, options.anchorKey);
    const claims = await verifyRegistrationRequest(request, { currentSigning: current.signing, now });
    if (claims.participant !== id) {
      throw new PasserelleError(
        'ERR_REGISTRATION_INVALID',
        `The request is ${claims.participant}'s, not ${id}'s.`,
        {
          details: { participantId: id },
        },
      );
    }
    if (!claims.rotation) {
      throw new PasserelleError(
        'ERR_PARTICIPANT_STATE',
        `${id}: a first registration goes to participants approve.`,
        {
          details: { participantId: id },
        },
      );
    }
    const registry = await home.readRegistry();
    const entry = activeEntry(options, registry, id, claims.name, options.now ?? new Date());
    await checkCertificateRequest(claims.csr, id);
    const plan = planOf(options.contracts, options.deployment, participantIds(options.deployment, registry), [
      id,
    ]).participants.find((p) => p.id === id)!;
    const user = await issueUser(options, claims, plan);
    const { certificate, ca } = await issueClientCertificate(
      claims.csr,
      home.tlsDir,
      options.validDays ?? 365,
    );
    const until = new Date(now.getTime() + (options.overlapMs ?? DEFAULT_ROTATION_OVERLAP_MS));
    const signing = [...claims.signing, ...endedKeys(current.signing, until)];
    const encryption = [...claims.encryption, ...endedKeys(current.encryption, until)];
    const published = await publishNextEntry(
      operator,
      makeEntry(id, claims.name, signing, encryption, now),
      options.anchorKey,
    );
    entry.users.push({ key: claims.natsUser, issuedAt: now.toISOString(), expiresAt: user.expiresAt });
    entry.keys = publishedKeys(signing, encryption);
    entry.directoryVersion = published.version;
    registry.participants[id] = entry;
    await home.writeRegistry(registry);
    return approvalOf(id, servers, user, { certificate, ca }, plan, published.version);
  } finally {
    await operator.close();
  }
}

/**
 * Ends a rotation: every NATS user of the participant but the newest is revoked (its account JWT signed
 * again with them and pushed: their connections close). Returns the users revoked.
 */
export async function finishRotation(participant: string, options: LifecycleOptions): Promise<string[]> {
  const { home } = options;
  const now = options.now ?? new Date();
  const registry = await home.readRegistry();
  const entry = registry.participants[participant];
  if (!entry || entry.state !== 'active' || entry.users.length < 2) {
    throw new PasserelleError('ERR_PARTICIPANT_STATE', `${participant} has no rotation to finish.`, {
      details: { participantId: participant },
    });
  }
  const older = entry.users.slice(0, -1).filter((u) => !u.revokedAt);
  const revocations = await home.readRevocations();
  for (const u of older) {
    (revocations[participant] ??= {})[u.key] = now.toISOString();
    u.revokedAt = now.toISOString();
  }
  const plan = planOf(options.contracts, options.deployment, participantIds(options.deployment, registry), [
    participant,
  ]);
  const jwts = await signAccounts(home, plan, [participant], revocations);
  const system = await home.connect('system', options.servers);
  try {
    await pushAccountJwts(system, [jwts.get(participant)!]);
  } finally {
    await system.close();
  }
  await home.writeRevocations(revocations);
  await home.writeRegistry(registry);
  return older.map((u) => u.key);
}

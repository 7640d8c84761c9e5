import { decode } from '@nats-io/jwt';
import type { Contracts } from '@passerelle/contracts';
import { makeEntry, publishNextEntry } from '@passerelle/directory';
import type { PrivateJwk } from '@passerelle/envelope';
import type { AccountSettings, InboxConsumerOptions } from '@passerelle/exchange';
import { PasserelleError } from '@passerelle/errors';
import { EXCHANGE_API_PREFIX, type ParticipantAccountPlan, encodeUserJwt } from './accounts.js';
import { participantIds, planOf, signAccounts, signStoresAccount } from './account-set.js';
import { ApprovalConnections } from './approval-connections.js';
import { checkCertificateRequest, issueClientCertificate } from './certificates.js';
import { pushAccountJwts } from './claims-push.js';
import type { DeploymentFile } from './deployment-file.js';
import type { OperatorHome } from './operator-home.js';
import { provisionInExchange, provisionOwnAccount } from './provision.js';
import { type RegistrationClaims, verifyRegistrationRequest } from './registration-request.js';
import { publishedKeys } from './registry.js';

/** The approval of `participant`, for its new user and TLS certificate and its directory entry's version. */
export function approvalOf(
  participant: string,
  servers: string[],
  user: { jwt: string; expiresAt: string },
  tls: { certificate: string; ca: string },
  plan: ParticipantAccountPlan,
  directoryVersion: number,
): Approval {
  return {
    typ: 'passerelle-approval',
    participant,
    servers,
    userJwt: user.jwt,
    expiresAt: user.expiresAt,
    ...tls,
    accounts: accountSettingsOf(plan),
    directoryVersion,
  };
}

/** What the operator hands back to an approved body: nothing secret (its keys never left it). */
export interface Approval {
  typ: 'passerelle-approval';
  participant: string;
  servers: string[];
  /** Its user JWT, signed by its account, for the NATS key it presented. */
  userJwt: string;
  /** When the user JWT expires. */
  expiresAt: string;
  /** Its TLS client certificate (PEM) and the CA to trust. */
  certificate: string;
  ca: string;
  accounts: AccountSettings;
  /** The version of its directory entry, signed by the trust anchor and published. */
  directoryVersion: number;
}

/** Participant kinds the lifecycle onboards: the portal and the auditor come with the deployment's stack. */
export const ONBOARDED_KINDS = [
  'commune',
  'consular-post',
  'regional-authority',
  'immigration-office',
] as const;

/** What a participant's credentials file tells its services about its account. */
export function accountSettingsOf(p: ParticipantAccountPlan): AccountSettings {
  return { exchangeApiPrefix: EXCHANGE_API_PREFIX, objectStoreOwners: p.objectStoreOwners };
}

/** Options shared by the lifecycle's steps. */
export interface LifecycleOptions {
  home: OperatorHome;
  deployment: DeploymentFile;
  contracts: Contracts;
  /** The trust anchor's private key: it signs the directory entries. */
  anchorKey: PrivateJwk;
  /** The servers to push to and to write in the approval (default: the operator credentials' servers). */
  servers?: string[];
  /** Days the user JWT and the certificate are valid (default 365). */
  validDays?: number;
  replicas?: number;
  consumer?: InboxConsumerOptions;
  now?: Date;
}

/** Issues the user JWT of a checked request. */
export async function issueUser(
  options: LifecycleOptions,
  claims: RegistrationClaims,
  plan: ParticipantAccountPlan,
): Promise<{ jwt: string; expiresAt: string }> {
  const now = options.now ?? new Date();
  const expires = new Date(now.getTime() + (options.validDays ?? 365) * 86_400_000);
  const jwt = await encodeUserJwt(
    claims.participant,
    claims.natsUser,
    await options.home.accountKey(claims.participant),
    plan.user,
    {
      expires,
      now,
    },
  );
  const exp = decode(jwt).exp;
  return { jwt, expiresAt: new Date((exp ?? 0) * 1000).toISOString() };
}

/**
 * Approves a body's registration request while the exchange runs: checks it (signatures, id, kind, the
 * certificate request), makes its account key, signs its account JWT — and the STORES relay's, which now
 * reaches its object store — and pushes them to the servers' resolver, issues its user JWT and TLS
 * certificate, provisions its durables and buckets, signs its directory entry with the trust anchor and
 * publishes it. No server restarts. Returns what the body needs to connect.
 */
export async function approveParticipant(request: unknown, options: LifecycleOptions): Promise<Approval> {
  const { home, deployment, contracts } = options;
  const now = options.now ?? new Date();
  const claims = await verifyRegistrationRequest(request, { now });
  const id = claims.participant;
  if (claims.rotation) {
    throw new PasserelleError(
      'ERR_PARTICIPANT_STATE',
      `${id}: a rotation request goes to participants rotate.`,
      {
        details: { participantId: id },
      },
    );
  }
  if (!(ONBOARDED_KINDS as readonly string[]).includes(claims.kind)) {
    throw new PasserelleError(
      'ERR_PARTICIPANT_STATE',
      `${id}: the lifecycle onboards ${ONBOARDED_KINDS.join(', ')}; a ${claims.kind} comes with the deployment's stack.`,
      { details: { participantId: id } },
    );
  }
  // the certificate request is checked (openssl) while the registry is read; a refusal by state still wins
  const csrChecked = checkCertificateRequest(claims.csr, id);
  csrChecked.catch(() => undefined);
  const registry = await home.readRegistry();
  if (deployment.participants.includes(id) || registry.participants[id] || home.hasAccount(id)) {
    throw new PasserelleError(
      'ERR_PARTICIPANT_STATE',
      `${id} already has an account (approved, or revoked).`,
      {
        details: { participantId: id },
      },
    );
  }
  await csrChecked;
  const servers = options.servers ?? (await home.servers());

  // Independent steps overlap: the two connections open (TLS handshakes, round trips) and openssl issues
  // the certificate while the account JWTs are signed; each step still waits for what it depends on.
  const connections = new ApprovalConnections(home, servers);
  const certificateIssued = issueClientCertificate(claims.csr, home.tlsDir, options.validDays ?? 365);
  certificateIssued.catch(() => undefined);
  try {
    const system = connections.open('system');
    const operator = connections.open('operator');

    const ids = [...participantIds(deployment, registry), id];
    const after = planOf(contracts, deployment, ids, [id]);
    await home.accountKey(id, true);
    // two accounts whatever the number of participants: the new one, and the STORES relay when it relays
    // the new one's object store to its readers (every other account imports the relay, not each writer)
    const jwts = await signAccounts(home, after, [id], await home.readRevocations());
    const relays = after.storesImports.some((i) => i.from === id);
    const storesJwt = relays ? await signStoresAccount(home, after) : undefined;
    const plan = after.participants.find((p) => p.id === id)!;

    // the new account first, so that the relay's import from it resolves
    await pushAccountJwts(await system, [jwts.get(id)!, ...(storesJwt ? [storesJwt] : [])]);
    await connections.close('system');

    // the durables in EXCHANGE and the participant's own stores, at once: neither reads the other
    const ownAccount = (async () => {
      const admin = connections.open({ admin: id });
      await provisionOwnAccount(await admin, plan, options.replicas ? { replicas: options.replicas } : {});
      await connections.close({ admin: id });
    })();
    const [user] = await Promise.all([
      issueUser(options, claims, plan),
      operator.then((nc) => provisionInExchange(nc, id, options.consumer)),
      ownAccount,
    ]);
    // published last: an entry in the directory is a participant others can reach
    const published = await publishNextEntry(
      await operator,
      makeEntry(id, claims.name, claims.signing, claims.encryption, now),
      options.anchorKey,
    );
    const directoryVersion = published.version;
    const { certificate, ca } = await certificateIssued;

    registry.participants[id] = {
      kind: claims.kind,
      name: claims.name,
      state: 'active',
      approvedAt: now.toISOString(),
      users: [{ key: claims.natsUser, issuedAt: now.toISOString(), expiresAt: user.expiresAt }],
      keys: publishedKeys(claims.signing, claims.encryption),
      directoryVersion,
    };
    await home.writeRegistry(registry);
    return approvalOf(id, servers, user, { certificate, ca }, plan, directoryVersion);
  } finally {
    await connections.closeAll();
    await certificateIssued.catch(() => undefined);
  }
}

import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Contracts, loadContracts, readExample } from '@passerelle/contracts';
import {
  type Envelope,
  type KeyResolver,
  type ParticipantKeys,
  type PrivateJwk,
  type PublicJwk,
  createStaticResolver,
  generateKey,
  generateParticipantKeys,
  newMessageId,
  sealEnvelope,
  toPublicJwk,
  publicKeysOf,
} from '@passerelle/envelope';
import { type Exchange, type Logger, connectExchange, createLogger } from '@passerelle/exchange';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export const PORTAL = 'portal-demo';
export const REGION = 'region-bruxelles';
export const OFFICE = 'immigration-office';
export const POST = 'post-lagos';
const PARTICIPANTS = [PORTAL, REGION, OFFICE, POST] as const;

/** Keys of the exchange's participants and of the auditor, a resolver over their public halves, the contracts. */
export interface World {
  keys: Map<string, ParticipantKeys>;
  auditorKey: PrivateJwk;
  resolver: KeyResolver;
  contracts: Contracts;
}

/** Real P-256 keys for every participant and a signing key (only) for the auditor. */
export async function makeWorld(): Promise<World> {
  const keys = new Map<string, ParticipantKeys>();
  for (const id of PARTICIPANTS) keys.set(id, await generateParticipantKeys(id));
  const auditorKey = await generateKey('sig', { kid: 'auditor-sig-1' });
  const resolver = createStaticResolver([
    ...[...keys.values()].map(publicKeysOf),
    { participantId: 'auditor', signing: [toPublicJwk(auditorKey)], encryption: [] },
  ]);
  return { keys, auditorKey, resolver, contracts: await loadContracts({ root: repoRoot }) };
}

/** A valid example payload shipped beside a schema. */
export function example(type: string, name?: string): Record<string, unknown> {
  return readExample(repoRoot, type, name) as Record<string, unknown>;
}

/**
 * A visa-issued envelope the post seals to the Office by hand, outside any exchange: for what a runtime
 * would never publish (a changed meta, a stale seal).
 */
export function sealVisa(
  world: World,
  dossierId: string,
  payload: unknown,
  { issuedAt = new Date(), correlationId = newMessageId() }: { issuedAt?: Date; correlationId?: string } = {},
): Promise<Envelope> {
  return sealEnvelope({
    meta: {
      id: newMessageId(),
      type: 'visa-issued',
      schemaVersion: 1,
      sender: POST,
      recipient: OFFICE,
      dossierId,
      issuedAt: issuedAt.toISOString(),
      correlationId,
      causationId: null,
    },
    payload,
    sender: world.keys.get(POST)!,
    recipientKey: toPublicJwk(world.keys.get(OFFICE)!.encryption[0] as PublicJwk),
  });
}

/** The participants of the seeded traffic, connected and handling their inboxes (receipts go back). */
export async function connectParticipants(
  world: World,
  nc: NatsConnection,
  onPayload: (payload: unknown) => void = () => undefined,
): Promise<Map<string, Exchange>> {
  const out = new Map<string, Exchange>();
  for (const id of PARTICIPANTS) {
    const ex = await connectExchange({
      participant: id,
      keys: world.keys.get(id) as ParticipantKeys,
      directory: world.resolver,
      contracts: world.contracts,
      nc,
      logger: createLogger(id, { level: 'silent' }),
    });
    ex.subscribe((m) => {
      onPayload(m.payload);
      return Promise.resolve();
    });
    out.set(id, ex);
  }
  return out;
}

/** A person whose data travels encrypted in the payloads and must never reach the ledger or the logs. */
export interface Person {
  familyName: string;
  givenNames: string;
  passportNumber: string;
}

/**
 * Seeds one dossier with real traffic: the application (portal → region and Immigration Office), the
 * completeness ruling (region → Immigration Office) and the visa (post → Immigration Office), each
 * receipted by its recipient. Resolves to the ids of the envelopes sent.
 */
export async function seedDossier(
  participants: Map<string, Exchange>,
  dossierId: string,
  person: Person,
): Promise<string[]> {
  const get = (id: string): Exchange => participants.get(id) as Exchange;
  const application = example('application-submitted', 'valid-ict-first-application.json');
  application['applicant'] = {
    ...(application['applicant'] as object),
    familyName: person.familyName,
    givenNames: person.givenNames,
    passportNumber: person.passportNumber,
  };
  const sent = await get(PORTAL).send('application-submitted', application, {
    to: [REGION, OFFICE],
    dossierId,
  });
  const ruled = await get(REGION).send(
    'completeness-ruled',
    example('completeness-ruled', 'valid-complete.json'),
    {
      to: OFFICE,
      dossierId,
      correlationId: sent[0]?.id,
      causationId: sent[0]?.id,
    },
  );
  const visa = await get(POST).send('visa-issued', example('visa-issued', 'valid-type-d.json'), {
    to: OFFICE,
    dossierId,
  });
  const all = [
    ...sent.map((s) => ({ s, from: PORTAL })),
    ...ruled.map((s) => ({ s, from: REGION })),
    ...visa.map((s) => ({ s, from: POST })),
  ];
  for (const { s, from } of all) await get(from).awaitReceipt(s.id, 20_000);
  return all.map(({ s }) => s.id);
}

/** A logger whose JSON lines are kept in memory, to assert on what the auditor logs. */
export function memoryLogger(level = 'debug'): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('auditor', { level, destination: sink }), text: () => chunks.join('') };
}

/** How long a test waits for what crosses the exchange (`vi.waitUntil` options). */
export const SETTLE = { timeout: 20_000, interval: 50 } as const;

/**
 * A self-signed P-256 server certificate for 127.0.0.1 and localhost, made with openssl in `dir`: the
 * files, their PEM text, and the key readable by its owner only.
 */
export function makeCertificate(
  dir: string,
  name = 'viewer',
): { certFile: string; keyFile: string; cert: string } {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=passerelle-viewer',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  chmodSync(keyFile, 0o600);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') };
}

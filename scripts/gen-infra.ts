/**
 * Generates the secured nats-server configuration from the exchange agreement (`pnpm gen:infra`):
 * - infra/nats/permissions.conf: one permission set per participant of infra/participants.json — the
 *   contract's allow-lists (infra/permissions/<kind>.json) plus the runtime subjects of its own consumers
 *   and buckets, deny by default;
 * - infra/nats/secure.conf: TLS (mutual), limits, one account holding every identity (nkeys), the system
 *   account — never a bare `authorization {}` block (CVE-2023-47090 on 2.9.10);
 * - infra/nats/single.conf and infra/nats/cluster-n{1,2,3}.conf: a single node and a 3-node JetStream
 *   cluster on loopback.
 * Secrets never enter these files: nats-server resolves `$PEX_*` references from its environment (public
 * nkeys, TLS file paths, store folder), which scripts/secure-exchange.ts sets. A test
 * (test/security/gen-infra.test.ts) fails when a committed output is not current.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type Contracts,
  type NatsPermissions,
  loadContracts,
  natsPermissionsFor,
} from '@passerelle/contracts';
import { participantKind } from '@passerelle/directory';
import { doorResources } from '@passerelle/door';
import { dossierBucketName } from '../services/portal/src/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** File listing the participants of the deployment. */
export const PARTICIPANTS_FILE = 'infra/participants.json';

/** Account of every exchange identity; the system account holds only the monitoring identity. */
export const EXCHANGE_ACCOUNT = 'PASSERELLE';
export const SYSTEM_ACCOUNT = 'SYS';

/** Identity names beside the participants: the operator provisions, the system user monitors. */
export const OPERATOR_IDENTITY = 'operator';
export const SYSTEM_IDENTITY = 'system';

/** Server limits every participant connection is held to (see SECURITY.md, "Flooding"). */
export const Limits = {
  /** Largest message: the envelope limit (1 MiB) plus room for headers. */
  maxPayload: 1024 * 1024 + 64 * 1024,
  /** Subscriptions per connection: a participant needs a handful (inbox, watchers). */
  maxSubscriptions: 256,
  /** Connections to one server. */
  maxConnections: 1024,
  /** Bytes buffered towards a slow client before the server cuts it off. */
  maxPending: 64 * 1024 * 1024,
} as const;

/** Client ports of the cluster nodes on loopback (node i listens on the i-th). */
export const CLUSTER_CLIENT_PORTS = [4222, 4223, 4224] as const;
/** Route ports of the cluster nodes. */
export const CLUSTER_ROUTE_PORTS = [6222, 6223, 6224] as const;
/** Monitoring ports of the cluster nodes, on loopback only (metrics scrapers and readiness checks). */
export const CLUSTER_MONITOR_PORTS = [8222, 8223, 8224] as const;

/** Environment variable holding the public nkey of an identity (`commune-21004` → `PEX_NKEY_COMMUNE_21004`). */
export function nkeyEnvName(identity: string): string {
  return `PEX_NKEY_${identity.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** Config variable holding a participant's permission set. */
function permissionVar(id: string): string {
  return `PEX_PERM_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** The private inbox prefix of a participant: replies to its requests travel only there. */
export function inboxPrefixOf(participant: string): string {
  return `_INBOX_${participant}`;
}

/** What a client uses to read one stream: info, direct and stored gets, ordered consumers, flow control. */
function readSubjects(stream: string): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/**
 * Subjects a participant uses on a stream of its own (a portal's door): publishing on its subjects, reading
 * it, and pulling from and acknowledging the consumers it creates on it.
 */
function streamSubjects(stream: { name: string; subjects: readonly string[] }): string[] {
  return [
    ...stream.subjects,
    ...readSubjects(stream.name),
    `$JS.API.CONSUMER.MSG.NEXT.${stream.name}.>`,
    `$JS.ACK.${stream.name}.>`,
  ];
}

/** Subjects the KV client uses on one bucket: read, write, watch/keys through an ordered consumer. */
function bucketSubjects(bucket: string, write: boolean): string[] {
  return [...(write ? [`$KV.${bucket}.>`] : []), ...readSubjects(`KV_${bucket}`)];
}

/**
 * Subjects the object store client uses on one bucket: reads (info, metadata, an ordered consumer over the
 * chunks), and to write, chunks and metadata under `$O.<bucket>` and the purge of a replaced object's old
 * chunks (`put` over an existing name). The purge right covers the whole bucket: participants sharing a
 * bucket for writing trust each other with it.
 */
function objectStoreSubjects(bucket: string, write: boolean): string[] {
  return [
    ...(write ? [`$O.${bucket}.>`, `$JS.API.STREAM.PURGE.OBJ_${bucket}`] : []),
    ...readSubjects(`OBJ_${bucket}`),
  ];
}

/**
 * A participant's permissions on the secured server: the contract's allow-lists, plus what the runtime
 * needs — JetStream account info (the client checks the API), its idempotency and outbox buckets, its
 * service state bucket `svc-<id>` and the buckets its kind's service keeps (`serviceBuckets`, shared by the
 * participants one service instance hosts), the object stores it writes (`objectStores`: decision documents,
 * the portal's uploads) and those it only reads (`objectStoresRead`: the documents whose references reach
 * an administration inside its payloads; each is encrypted under a key only those payloads carry),
 * read-only access to the signed `directory` bucket (entries are anchor-signed, so reading them reveals
 * nothing private), and for the auditor the LEDGER reads of its writer. Subscriptions: only its private
 * inbox prefix. Everything else is denied.
 */
export function participantPermissions(
  contracts: Contracts,
  id: string,
  serviceBuckets: readonly string[] = [],
  objectStores: readonly string[] = [],
  objectStoresRead: readonly string[] = [],
): NatsPermissions {
  const base = natsPermissionsFor(contracts, id);
  // the contract's allow-lists already leave consumer creation on EXCHANGE to the operator
  const publish = new Set(base.publish.allow);
  publish.add('$JS.API.INFO');
  // a portal keeps its dossiers in a bucket of its own, and runs the integrators' door (named after it):
  // its clients, tokens, Idempotency-Key records, event counters and webhook subscriptions in buckets, its
  // events and webhook deliveries in streams it reads through consumers of its own
  const door = participantKind(id) === 'portal' ? doorResources(id) : { buckets: [], streams: [] };
  const ownBuckets = participantKind(id) === 'portal' ? [dossierBucketName(id), ...door.buckets] : [];
  for (const stream of door.streams) for (const s of streamSubjects(stream)) publish.add(s);
  for (const bucket of [
    `pex-idem-${id}`,
    `pex-outbox-${id}`,
    `svc-${id}`,
    ...ownBuckets,
    ...serviceBuckets,
  ]) {
    for (const s of bucketSubjects(bucket, true)) publish.add(s);
  }
  for (const bucket of objectStores) for (const s of objectStoreSubjects(bucket, true)) publish.add(s);
  for (const bucket of objectStoresRead) for (const s of objectStoreSubjects(bucket, false)) publish.add(s);
  for (const s of bucketSubjects('directory', false)) publish.add(s);
  if (participantKind(id) === 'auditor') {
    for (const s of [
      // the viewer shows how many inputs the auditor refused (its own subject in DEADLETTER)
      '$JS.API.STREAM.INFO.DEADLETTER',
      '$JS.API.STREAM.INFO.LEDGER',
      '$JS.API.STREAM.MSG.GET.LEDGER',
      '$JS.API.DIRECT.GET.LEDGER',
      '$JS.API.DIRECT.GET.LEDGER.>',
    ])
      publish.add(s);
  }
  return {
    publish: { allow: [...publish] },
    subscribe: { allow: [`${inboxPrefixOf(id)}.>`] },
  };
}

/** A map of participant kind to bucket names from infra/participants.json (`serviceBuckets`, `objectStores`, `objectStoresRead`). */
function readBucketsByKind(
  member: 'serviceBuckets' | 'objectStores' | 'objectStoresRead',
  root: string,
): Record<string, string[]> {
  const parsed = JSON.parse(readFileSync(join(root, PARTICIPANTS_FILE), 'utf8')) as Record<string, unknown>;
  const out: Record<string, string[]> = {};
  for (const [kind, buckets] of Object.entries((parsed[member] ?? {}) as Record<string, unknown>)) {
    if (
      !Array.isArray(buckets) ||
      !buckets.every((b) => typeof b === 'string' && /^[-_a-zA-Z0-9]+$/.test(b))
    ) {
      throw new Error(`${PARTICIPANTS_FILE}: ${member}.${kind} must be a list of bucket names`);
    }
    out[kind] = buckets as string[];
  }
  return out;
}

/** Service state buckets by participant kind, from infra/participants.json. */
export function readServiceBuckets(root = ROOT): Record<string, string[]> {
  return readBucketsByKind('serviceBuckets', root);
}

/** Object stores each participant kind writes, from infra/participants.json. */
export function readObjectStores(root = ROOT): Record<string, string[]> {
  return readBucketsByKind('objectStores', root);
}

/** Object stores each participant kind only reads, from infra/participants.json. */
export function readObjectStoresRead(root = ROOT): Record<string, string[]> {
  return readBucketsByKind('objectStoresRead', root);
}

/** Participant ids of infra/participants.json, checked. */
export function readParticipants(root = ROOT): string[] {
  const file = join(root, PARTICIPANTS_FILE);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { participants?: unknown };
  if (!Array.isArray(parsed.participants) || parsed.participants.length === 0) {
    throw new Error(`${PARTICIPANTS_FILE}: "participants" must be a non-empty list of participant ids`);
  }
  const ids = parsed.participants.map(String);
  for (const id of ids) participantKind(id); // throws a typed error naming a malformed id
  if (new Set(ids).size !== ids.length) throw new Error(`${PARTICIPANTS_FILE}: duplicate participant id`);
  return ids;
}

const HEADER = (what: string): string =>
  [
    `# ${what}`,
    '# Generated by scripts/gen-infra.ts from contracts/exchange.yaml and infra/participants.json',
    '# (pnpm gen:infra). Do not edit.',
    '',
  ].join('\n');

function list(items: readonly string[], indent: string): string {
  return items.map((s) => `${indent}  ${JSON.stringify(s)}`).join(',\n');
}

function renderPermissions(
  contracts: Contracts,
  ids: readonly string[],
  serviceBuckets: Record<string, string[]>,
  objectStores: Record<string, string[]>,
  objectStoresRead: Record<string, string[]>,
): string {
  const blocks = ids.map((id) => {
    const kind = participantKind(id);
    const p = participantPermissions(
      contracts,
      id,
      serviceBuckets[kind] ?? [],
      objectStores[kind] ?? [],
      objectStoresRead[kind] ?? [],
    );
    return [
      `# ${id} (${participantKind(id)})`,
      `${permissionVar(id)} = {`,
      '  publish: {',
      '    allow: [',
      list(p.publish.allow, '    '),
      '    ]',
      '  }',
      '  subscribe: {',
      '    allow: [',
      list(p.subscribe.allow, '    '),
      '    ]',
      '  }',
      '}',
    ].join('\n');
  });
  return (
    HEADER('Per-participant permissions: publish and subscribe allow-lists, deny by default.') +
    blocks.join('\n\n') +
    '\n'
  );
}

function renderSecure(ids: readonly string[]): string {
  const users = ids.map((id) => `      { nkey: $${nkeyEnvName(id)}, permissions: $${permissionVar(id)} }`);
  return (
    HEADER('Authentication, TLS and limits of every Passerelle server (included by the node configs).') +
    [
      'include "./permissions.conf"',
      '',
      '# Mutual TLS: the server presents a certificate of the Passerelle CA and requires one from every',
      '# client. No plain-text listener exists (no allow_non_tls).',
      'tls {',
      '  cert_file: $PEX_TLS_CERT',
      '  key_file: $PEX_TLS_KEY',
      '  ca_file: $PEX_TLS_CA',
      '  verify: true',
      '  timeout: 5',
      '}',
      '',
      '# Limits held by every connection: an oversized or flooding participant is refused or cut off alone.',
      `max_payload: ${Limits.maxPayload}`,
      `max_subscriptions: ${Limits.maxSubscriptions}`,
      `max_connections: ${Limits.maxConnections}`,
      `max_pending: ${Limits.maxPending}`,
      'max_control_line: 4096',
      'write_deadline: "10s"',
      '',
      '# One account for the exchange: each identity is an nkey (challenge-signed, no shared secret on the',
      '# server) with its own permission set and private inbox prefix. The operator provisions streams,',
      '# consumers and buckets; the system identity only monitors. No `authorization {}` block exists.',
      'accounts {',
      `  ${EXCHANGE_ACCOUNT} {`,
      '    jetstream: {',
      '      max_memory: 268435456',
      '      max_file: 10737418240',
      '      max_streams: 256',
      '      max_consumers: 1024',
      '    }',
      '    users: [',
      `      { nkey: $${nkeyEnvName(OPERATOR_IDENTITY)} }`,
      ...users,
      '    ]',
      '  }',
      `  ${SYSTEM_ACCOUNT} {`,
      `    users: [ { nkey: $${nkeyEnvName(SYSTEM_IDENTITY)} } ]`,
      '  }',
      '}',
      `system_account: ${SYSTEM_ACCOUNT}`,
      '',
    ].join('\n')
  );
}

function renderSingle(): string {
  return (
    HEADER('Single secured node on loopback (pnpm start --secure). Store folder from $PEX_STORE_DIR.') +
    [
      'server_name: "passerelle-secure"',
      'listen: "127.0.0.1:4222"',
      'jetstream { store_dir: $PEX_STORE_DIR }',
      'include "./secure.conf"',
      '',
    ].join('\n')
  );
}

function renderClusterNode(index: number): string {
  const routes = CLUSTER_ROUTE_PORTS.filter((_, i) => i !== index).map(
    (p) => `"nats-route://127.0.0.1:${p}"`,
  );
  return (
    HEADER(
      `Node ${index + 1} of the 3-node JetStream cluster on loopback (streams R3). Store folder from $PEX_STORE_DIR.`,
    ) +
    [
      `server_name: "passerelle-n${index + 1}"`,
      `listen: "127.0.0.1:${CLUSTER_CLIENT_PORTS[index]}"`,
      '# monitoring (/jsz, /healthz, /varz) on loopback only: for a metrics exporter and readiness checks',
      `http: "127.0.0.1:${CLUSTER_MONITOR_PORTS[index]}"`,
      'jetstream { store_dir: $PEX_STORE_DIR }',
      'cluster {',
      '  name: "passerelle"',
      `  listen: "127.0.0.1:${CLUSTER_ROUTE_PORTS[index]}"`,
      `  routes: [${routes.join(', ')}]`,
      '  # Routes authenticate each other with the server certificate of the Passerelle CA.',
      '  tls {',
      '    cert_file: $PEX_TLS_CERT',
      '    key_file: $PEX_TLS_KEY',
      '    ca_file: $PEX_TLS_CA',
      '    verify: true',
      '    timeout: 5',
      '  }',
      '}',
      'include "./secure.conf"',
      '',
    ].join('\n')
  );
}

/** Every generated file, path relative to the repository root → content. */
export async function renderInfraOutputs(root = ROOT): Promise<Map<string, string>> {
  const contracts = await loadContracts({ root });
  const ids = readParticipants(root);
  const out = new Map<string, string>();
  out.set(
    'infra/nats/permissions.conf',
    renderPermissions(
      contracts,
      ids,
      readServiceBuckets(root),
      readObjectStores(root),
      readObjectStoresRead(root),
    ),
  );
  out.set('infra/nats/secure.conf', renderSecure(ids));
  out.set('infra/nats/single.conf', renderSingle());
  for (let i = 0; i < 3; i++) out.set(`infra/nats/cluster-n${i + 1}.conf`, renderClusterNode(i));
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [file, content] of await renderInfraOutputs()) {
    mkdirSync(dirname(join(ROOT, file)), { recursive: true });
    writeFileSync(join(ROOT, file), content);
    console.log(`${file} written`);
  }
}

/**
 * Generates the secured nats-server configuration from the exchange agreement (`pnpm gen:infra`):
 * - infra/nats/accounts.json: the account design (scripts/accounts.ts) — what the EXCHANGE account exports,
 *   and for each participant of infra/participants.json its account's imports (the contract's allow-lists,
 *   infra/permissions/<kind>.json), exports, its service user's permissions and the buckets it holds;
 * - infra/nats/secure.conf: TLS (mutual), limits, operator mode (operator JWT, system account, full
 *   account resolver) — no account or user is defined in the configuration itself;
 * - infra/nats/single.conf and infra/nats/cluster-n{1,2,3}.conf: a single node and a 3-node JetStream
 *   cluster on loopback.
 * Secrets never enter these files: nats-server resolves `$PEX_*` references from its environment (the
 * operator JWT, the system account's public key, the resolver folder, TLS file paths, store folder), which
 * scripts/secure-exchange.ts sets. A test (test/security/gen-infra.test.ts) fails when a committed output
 * is not current.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadContracts } from '@passerelle/contracts';
import { participantKind } from '@passerelle/directory';
import { accountPlan, inboxPrefixOf } from './accounts.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** File listing the participants of the deployment. */
export const PARTICIPANTS_FILE = 'infra/participants.json';

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

export { inboxPrefixOf };

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

function renderSecure(): string {
  return (
    HEADER('Authentication, TLS and limits of every Passerelle server (included by the node configs).') +
    [
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
      '# Decentralised authentication: the operator JWT is the only trust root; every account (the system',
      '# account, EXCHANGE, one per participant) is a JWT the operator signed, every identity a user JWT its',
      '# account signed (infra/nats/accounts.json says what each account imports and each user may do).',
      '# The full resolver keeps the account JWTs in its folder and takes updates pushed by the operator',
      '# ($SYS.REQ.CLAIMS.UPDATE) without a restart. Public keys and JWTs come from the environment',
      '# (scripts/secure-exchange.ts); no secret is in this file.',
      'operator: $PEX_OPERATOR_JWT',
      'system_account: $PEX_SYSTEM_ACCOUNT',
      'resolver: {',
      '  type: full',
      '  dir: $PEX_RESOLVER_DIR',
      '  allow_delete: false',
      '  interval: "2m"',
      '}',
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
  const plan = accountPlan(
    contracts,
    ids,
    readServiceBuckets(root),
    readObjectStores(root),
    readObjectStoresRead(root),
  );
  out.set(
    'infra/nats/accounts.json',
    JSON.stringify(
      {
        $comment:
          "Generated by scripts/gen-infra.ts from contracts/exchange.yaml and infra/participants.json (pnpm gen:infra). Do not edit. What the EXCHANGE account exports, and for every participant account: its imports, its exports, its service user's permissions and what the operator provisions in it. scripts/secure-exchange.ts signs it into account and user JWTs.",
        ...plan,
      },
      null,
      2,
    ) + '\n',
  );
  out.set('infra/nats/secure.conf', renderSecure());
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

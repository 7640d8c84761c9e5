/**
 * The independent probe of the account design (SECURITY.md, "Accounts"): a raw NATS protocol client with
 * each participant kind's own credentials (user JWT + mutual TLS) sends what a well-behaved library never
 * would — requests whose reply subject names another participant's subjects, a stream or a bucket, purges
 * and deletes of every stream, bucket and object store, consumer creation and deletion on shared streams,
 * publishes in another's name, subscriptions to others' subjects — then the operator and each account's
 * administrator read every stream's state: nothing may have landed anywhere.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsServer } from '@passerelle/testing';
import { describe, expect, test } from 'vitest';
import { type SecureDeployment, connectAdmin, connectOperator } from '../../scripts/secure-exchange.js';
import { type RawSession, clientTls, credsOf, rawSession, useSecuredScenario } from '../support/secure.js';

/** One participant of each kind, and the victim whose subjects the others aim at. */
const PROBERS = [
  'region-bruxelles',
  'immigration-office',
  'post-ankara',
  'commune-21004',
  'portal-employers',
  'auditor',
] as const;
const VICTIM = 'post-kinshasa';
const ALL = [...PROBERS, VICTIM];

/** Every stream of every account, with what could change if something landed or was removed there. */
type Snapshot = Record<string, { messages: number; lastSeq: number; consumers: string[] }>;

async function snapshotOf(nc: NatsConnection, account: string, into: Snapshot): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  for await (const info of jsm.streams.list()) {
    const consumers: string[] = [];
    for await (const c of jsm.consumers.list(info.config.name)) {
      // a mirror's own consumer in EXCHANGE has a server-made name; count it, not its name
      consumers.push(c.config.durable_name ?? 'ephemeral');
    }
    into[`${account}/${info.config.name}`] = {
      messages: info.state.messages,
      lastSeq: info.state.last_seq,
      consumers: consumers.sort(),
    };
  }
}

describe('account isolation: raw-client probe with each participant kind', { timeout: 240_000 }, () => {
  let deployment: SecureDeployment;
  let server: NatsServer;
  useSecuredScenario('passerelle-probe-', ALL, 'post-ankara', async (s) => {
    ({ deployment, server } = s);
    // something in every store to purge or overwrite: a directory entry, a decision document, an upload
    const op = await connectOperator(deployment, server.url);
    try {
      const dir = await new Kvm(op).open('directory');
      for (const id of ALL) await dir.put(id, `entry-of-${id}`);
    } finally {
      await op.close();
    }
    for (const [owner, store] of [
      ['immigration-office', 'pex-decisions'],
      [VICTIM, 'pex-decisions'],
      ['portal-employers', 'pex-documents'],
    ] as const) {
      const admin = await connectAdmin(deployment, owner, server.url);
      try {
        await (await new Objm(admin).open(store)).putBlob({ name: 'doc-1' }, new Uint8Array(2048).fill(7));
      } finally {
        await admin.close();
      }
    }
  });

  async function snapshot(): Promise<Snapshot> {
    const out: Snapshot = {};
    const op = await connectOperator(deployment, server.url);
    try {
      await snapshotOf(op, 'EXCHANGE', out);
    } finally {
      await op.close();
    }
    for (const id of ALL.filter((p) => p !== 'auditor')) {
      const admin = await connectAdmin(deployment, id, server.url);
      try {
        await snapshotOf(admin, id, out);
      } finally {
        await admin.close();
      }
    }
    return out;
  }

  /** Removes, as `owner`'s administrator, its consumers named `durable` and its ephemeral ones. */
  async function removeConsumersOf(owner: string, durable: string): Promise<void> {
    const admin = await connectAdmin(deployment, owner, server.url);
    try {
      const jsm = await jetstreamManager(admin, { timeout: 10_000 });
      for await (const info of jsm.streams.list()) {
        for await (const c of jsm.consumers.list(info.config.name)) {
          if (c.config.durable_name === undefined || c.config.durable_name === durable)
            await jsm.consumers.delete(info.config.name, c.name).catch(() => undefined);
        }
      }
    } finally {
      await admin.close();
    }
  }

  /** Subjects that name a stream, a bucket or another participant's messages: reply targets and publishes. */
  function targets(self: string): string[] {
    // its own subjects are its right (an administration's own messages, the auditor's ledger entries)
    const own = (t: string): boolean =>
      t.startsWith(`pex.msg.`)
        ? t.split('.')[3] === self
        : t.startsWith('pex.rcpt.')
          ? t.split('.')[2] === self
          : t === `pex.dlq.${self}` || (self === 'auditor' && t.startsWith('pex.ledger.'));
    return [
      'pex.ledger.envelope',
      'pex.ledger.checkpoint',
      `pex.msg.residence-decided.immigration-office.${VICTIM}`,
      `pex.msg.visa-issued.${VICTIM}.immigration-office`,
      `pex.rcpt.${VICTIM}.immigration-office`,
      `pex.rcpt.immigration-office.${VICTIM}`,
      `pex.dlq.${VICTIM}`,
      'pex.dlq.immigration-office',
      `$KV.directory.${VICTIM}`,
      '$KV.directory.immigration-office',
      `$KV.pex-idem-${VICTIM}.forged`,
      `$KV.svc-${VICTIM}.forged`,
      '$KV.svc-consular-post.forged',
      `$O.pex-decisions.C.forged`,
      `$O.pex-decisions.M.ZG9jLTE=`,
      '$O.pex-documents.M.ZG9jLTE=',
      `pex.mirror.${VICTIM}.M.forged`,
      // the shared JetStream API and others' under every prefix a participant account knows
      '$JS.API.STREAM.PURGE.EXCHANGE',
      '$JS.EX.API.STREAM.PURGE.EXCHANGE',
      '$JS.EX.API.CONSUMER.CREATE.KV_directory.evil',
      `$JS.${VICTIM}.API.STREAM.PURGE.OBJ_pex-decisions`,
      `$JS.ACK.EXCHANGE.inbox-${VICTIM}.1.1.1.1.1.0`,
    ].filter((t) => !own(t));
  }

  /** What each prober sends: reply tricks through every API it can reach, and direct attacks. */
  function attacks(self: string): string[] {
    const lines: string[] = [];
    const pub = (subject: string, reply: string, body = ''): void => {
      const bytes = Buffer.byteLength(body);
      lines.push(
        reply ? `PUB ${subject} ${reply} ${bytes}\r\n${body}\r\n` : `PUB ${subject} ${bytes}\r\n${body}\r\n`,
      );
    };
    // requests answered by JetStream (its own account's, EXCHANGE's imported ones, others' stores) whose
    // reply subject names someone else's subjects, a stream or a bucket
    const requests = [
      '$JS.API.INFO',
      `$JS.API.DIRECT.GET.KV_pex-idem-${self}`,
      `$JS.API.DIRECT.GET.KV_directory.$KV.directory.immigration-office`,
      `$JS.EX.API.CONSUMER.INFO.EXCHANGE.inbox-${self}`,
      `$JS.EX.API.CONSUMER.MSG.NEXT.EXCHANGE.inbox-${self}`,
      '$JS.API.STREAM.INFO.LEDGER',
      '$JS.API.DIRECT.GET.LEDGER',
      `$JS.immigration-office.API.DIRECT.GET.OBJ_pex-decisions.$O.pex-decisions.M.ZG9jLTE=`,
      `$JS.portal-employers.API.DIRECT.GET.OBJ_pex-documents.$O.pex-documents.M.ZG9jLTE=`,
    ];
    for (const request of requests) {
      for (const reply of targets(self))
        pub(
          request,
          reply,
          request.includes('DIRECT.GET.') && !request.endsWith('=') && !request.includes('$KV')
            ? '{"last_by_subj":">"}'
            : '',
        );
    }
    // management of every stream, bucket and store, under every prefix
    const streams = [
      'EXCHANGE',
      'DEADLETTER',
      'LEDGER',
      'KV_directory',
      `KV_pex-idem-${VICTIM}`,
      `KV_svc-${VICTIM}`,
      'OBJ_pex-decisions',
      'OBJ_pex-documents',
      `KV_pex-idem-${self}`,
      `KV_pex-outbox-${self}`,
      `KV_svc-${self}`,
    ];
    const prefixes = [
      '$JS.API',
      '$JS.EX.API',
      `$JS.${VICTIM}.API`,
      '$JS.immigration-office.API',
      '$JS.portal-employers.API',
    ];
    for (const prefix of prefixes) {
      for (const stream of streams) {
        pub(`${prefix}.STREAM.PURGE.${stream}`, `_INBOX_${self}.p`, '{}');
        pub(`${prefix}.STREAM.DELETE.${stream}`, `_INBOX_${self}.d`);
        pub(`${prefix}.STREAM.MSG.DELETE.${stream}`, `_INBOX_${self}.m`, '{"seq":1}');
        pub(
          `${prefix}.STREAM.UPDATE.${stream}`,
          `_INBOX_${self}.u`,
          JSON.stringify({ name: stream, subjects: ['>'] }),
        );
        // consumers: durables to exhaust a shared limit, push consumers delivering into shared subjects
        for (const deliver of [
          'pex.ledger.x',
          `pex.msg.visa-issued.${VICTIM}.immigration-office`,
          undefined,
        ]) {
          const config = { durable_name: `spy-${self}`, ...(deliver ? { deliver_subject: deliver } : {}) };
          pub(
            `${prefix}.CONSUMER.CREATE.${stream}.spy-${self}`,
            `_INBOX_${self}.c`,
            JSON.stringify({ stream_name: stream, config }),
          );
          pub(
            `${prefix}.CONSUMER.DURABLE.CREATE.${stream}.spy-${self}`,
            `_INBOX_${self}.c`,
            JSON.stringify({ stream_name: stream, config }),
          );
        }
        pub(
          `${prefix}.CONSUMER.CREATE.${stream}`,
          `_INBOX_${self}.c`,
          JSON.stringify({ stream_name: stream, config: { deliver_subject: 'pex.ledger.y' } }),
        );
      }
      for (const consumer of [`inbox-${VICTIM}`, `receipts-${VICTIM}`, 'auditor-ledger', `inbox-${self}`]) {
        pub(`${prefix}.CONSUMER.DELETE.EXCHANGE.${consumer}`, `_INBOX_${self}.x`);
      }
    }
    // publishes in others' names and on shared subjects, with bytes of its choosing
    for (const subject of targets(self)) pub(subject, `_INBOX_${self}.w`, '{"forged":true}');
    return lines;
  }

  test.each(PROBERS)(
    'probe - %s: reply tricks, purges, deletes, consumer creation, foreign publishes: nothing lands, nothing goes',
    async (self) => {
      const before = await snapshot();
      const raw: RawSession = await rawSession(server.port, {
        tls: clientTls(deployment, self),
        seed: credsOf(deployment, self),
      });
      try {
        await raw.until(/PONG\r\n/);
        // subscriptions to others' traffic are refused
        raw.send(
          `SUB > 1\r\nSUB pex.> 2\r\nSUB _INBOX_${VICTIM}.> 3\r\nSUB $JS.ACK.> 4\r\nSUB pex.mirror.> 5\r\n`,
        );
        for (const line of attacks(self)) raw.send(line);
        // the control: one dead letter of its own, which must land (the probe sees what lands)
        raw.send(`PUB pex.dlq.${self} 2\r\n{}\r\n`);
        raw.send('PING\r\n');
        await raw.until(/PONG\r\n[\s\S]*PONG\r\n/, 30_000);
        // let anything that would land do so: a round trip through the server after the last request
        raw.send('PING\r\n');
        await raw.until(/(PONG\r\n[\s\S]*){3}/, 10_000);
        expect(raw.received()).toMatch(/Permissions Violation for Subscription to ">"/);
        expect(raw.received()).not.toMatch(/^MSG pex\./m);
      } finally {
        raw.close();
      }
      const after = await snapshot();
      // its own account is its own: what it wrote there is its right, but nothing was purged or deleted
      const mine = (key: string): boolean => key.startsWith(`${self}/`);
      const others = (snap: Snapshot): Snapshot =>
        Object.fromEntries(Object.entries(snap).filter(([key]) => !mine(key)));
      const dlq = 'EXCHANGE/DEADLETTER';
      expect(after[dlq]!.lastSeq).toBe(before[dlq]!.lastSeq + 1);
      const expected = { ...others(before), [dlq]: after[dlq] };
      expect(others(after)).toEqual(expected);
      for (const [key, was] of Object.entries(before).filter(([k]) => mine(k))) {
        expect(after[key], key).toBeDefined();
        expect(after[key]!.messages, key).toBeGreaterThanOrEqual(was.messages);
        expect(after[key]!.lastSeq, key).toBeGreaterThanOrEqual(was.lastSeq);
      }
      // what was stored before is still there: the decision documents, the uploads, the directory
      const admin = await connectAdmin(deployment, VICTIM, server.url);
      try {
        expect((await (await new Objm(admin).open('pex-decisions')).getBlob('doc-1'))?.length).toBe(2048);
      } finally {
        await admin.close();
      }
      // the consumers it made in its own account go, so that the next prober's snapshots do not see
      // them expire (an ephemeral one lasts seconds after its last interest)
      if (self !== 'auditor') await removeConsumersOf(self, `spy-${self}`);
    },
  );

  test("probe - a participant's JetStream limits are its own: exhausting its consumers leaves others' reads working", async () => {
    const greedy = await connectAdmin(deployment, 'commune-21004', server.url);
    const other = await connectAdmin(deployment, 'post-ankara', server.url);
    try {
      const jsm = await jetstreamManager(greedy);
      let refused = '';
      for (let i = 0; i < 200 && !refused; i++) {
        await jsm.consumers
          .add('KV_svc-commune-21004', { durable_name: `greedy-${i}` })
          .catch((err: unknown) => (refused = String(err)));
      }
      expect(refused).toMatch(/maximum consumers limit reached/);
      // another participant watches its own directory mirror as before
      const kv = await new Kvm(other).open('directory');
      const entry = await kv.get('immigration-office');
      expect(entry?.string()).toBe('entry-of-immigration-office');
    } finally {
      await greedy.close();
      await other.close();
    }
  });
});

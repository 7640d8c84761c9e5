import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { type NatsConnection, connect, nkeyAuthenticator, nkeys } from '@nats-io/transport-node';
import { createDirectoryClient, loadAnchorPrivateKey, makeEntry, writeAnchor } from '@passerelle/directory';
import { publishEntry, signEntry } from '@passerelle/directory/internal';
import { toPublicJwk } from '@passerelle/envelope';
import type { NatsServer } from '@passerelle/testing';
import { describe, expect, test, vi } from 'vitest';
import { type SecureDeployment, connectOperator } from '../../scripts/secure-exchange.js';
import {
  type Parties,
  useSecuredScenario,
  clientTls,
  connectSecureExchange,
  example,
  rawSession,
  credsOf,
} from '../support/secure.js';

const POST = 'post-ankara'; // A
const OE = 'immigration-office'; // B
const PARTIES = [POST, OE];

/** Resolves with the permission violation a request, publish or subscription ran into. */
async function violation(run: (nc: NatsConnection) => Promise<unknown>, nc: NatsConnection): Promise<string> {
  try {
    await run(nc);
  } catch (err) {
    const e = err as { message?: string; cause?: { message?: string } };
    return `${e.message ?? ''} ${e.cause?.message ?? ''}`;
  }
  return 'allowed';
}

describe('secured server: isolation between participants', { timeout: 60_000 }, () => {
  let home: string;
  let deployment: SecureDeployment;
  let server: NatsServer;
  let parties: Parties;
  let post: NatsConnection;
  useSecuredScenario('passerelle-sec-', PARTIES, POST, (s) => {
    ({ home, deployment, server, parties, client: post } = s);
  });

  async function exchangeMessages(): Promise<number> {
    const op = await connectOperator(deployment, server.url);
    try {
      return (await (await jetstreamManager(op)).streams.info('EXCHANGE')).state.messages;
    } finally {
      await op.close();
    }
  }

  test('isolation - end to end: A sends to B with its user JWT + mutual TLS + provision: false, B handles it, A gets the signed receipt', async () => {
    const a = await connectSecureExchange(deployment, parties, POST);
    const b = await connectSecureExchange(deployment, parties, OE);
    try {
      const handled: string[] = [];
      b.subscribe({ 'visa-issued': async (m) => void handled.push(m.meta.id) });
      const [sent] = await a.send('visa-issued', example('visa-issued'), {
        to: OE,
        dossierId: 'dossier-sec-0001',
      });
      const receipt = await a.awaitReceipt(sent!.id, 15_000);
      expect(receipt).toMatchObject({ messageId: sent!.id, receiver: OE, sender: POST, status: 'accepted' });
      expect(handled).toEqual([sent!.id]);
      expect(await a.unreceipted(0)).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('isolation - A cannot publish as B, nor a type the contract denies it; nothing reaches the stream', async () => {
    const before = await exchangeMessages();
    const js = jetstream(post, { timeout: 3_000, apiPrefix: '$JS.EX.API' });
    const body = JSON.stringify({ forged: true });
    // as B (sender token = B)
    // refused by its user's permissions, and absent from its account anyway (no import leads there)
    const refused = /Permissions Violation for Publish|no responders|jetstream is not enabled/i;
    expect(await violation(() => js.publish(`pex.msg.visa-issued.${OE}.${OE}`, body), post)).toMatch(refused);
    expect(
      await violation(() => js.publish(`pex.msg.residence-decided.${OE}.commune-21004`, body), post),
    ).toMatch(refused);
    // a type the contract gives to the immigration office only, with A's own id
    expect(await violation(() => js.publish(`pex.msg.residence-decided.${POST}.${OE}`, body), post)).toMatch(
      refused,
    );
    // a receipt in B's name, a dead letter in B's queue, a ledger entry
    for (const subject of [`pex.rcpt.${OE}.${POST}`, `pex.dlq.${OE}`, 'pex.ledger.entry']) {
      expect(await violation(() => js.publish(subject, body), post), subject).toMatch(refused);
    }
    expect(await exchangeMessages()).toBe(before);
  });

  test("isolation - A cannot read B's consumer, B's buckets, nor subscribe to B's subjects or the shared inbox", async () => {
    // B's consumers and streams are not in A's account: refused by A's permissions, or not found there
    for (const subject of [
      `$JS.EX.API.CONSUMER.MSG.NEXT.EXCHANGE.inbox-${OE}`,
      `$JS.EX.API.CONSUMER.INFO.EXCHANGE.inbox-${OE}`,
      `$JS.EX.API.CONSUMER.MSG.NEXT.EXCHANGE.receipts-${OE}`,
      `$JS.EX.API.STREAM.MSG.GET.EXCHANGE`,
      `$JS.EX.API.DIRECT.GET.EXCHANGE`,
      `$JS.API.STREAM.INFO.KV_pex-idem-${OE}`,
      `$JS.API.DIRECT.GET.KV_pex-outbox-${OE}.$KV.pex-outbox-${OE}.x`,
      `$KV.pex-idem-${OE}.forged`,
      `$JS.API.STREAM.INFO.KV_svc-${OE}`,
      `$KV.svc-immigration-office.forged`,
      `$KV.svc-commune.forged`,
    ]) {
      const answer = await post.request(subject, '{}', { timeout: 3_000 }).then(
        (m) => m.string(),
        (err: unknown) => String(err),
      );
      expect(answer, subject).toMatch(/Permissions Violation for Publish|not found|no responders|503/i);
    }
    for (const subject of [
      `pex.msg.*.*.${OE}`,
      'pex.msg.>',
      'pex.rcpt.>',
      '>',
      '_INBOX.>',
      `_INBOX_${OE}.>`,
      '$JS.ACK.>',
    ]) {
      const sub = post.subscribe(subject);
      const closed = await Promise.race([sub.closed, new Promise((r) => setTimeout(() => r('open'), 3_000))]);
      expect(String(closed), subject).toMatch(/Permissions Violation for Subscription/);
    }
  });

  test('isolation - A cannot call JetStream management: stream delete or purge, consumer create or delete, for anyone', async () => {
    const cases: [string, unknown][] = [
      ['$JS.API.STREAM.DELETE.EXCHANGE', {}],
      ['$JS.API.STREAM.PURGE.EXCHANGE', {}],
      ['$JS.API.STREAM.DELETE.LEDGER', {}],
      ['$JS.API.STREAM.UPDATE.EXCHANGE', { name: 'EXCHANGE', subjects: ['>'] }],
      ['$JS.API.STREAM.CREATE.SPY', { name: 'SPY', subjects: ['pex.msg.>'] }],
      ['$JS.API.STREAM.MSG.DELETE.EXCHANGE', { seq: 1 }],
      [`$JS.API.CONSUMER.DELETE.EXCHANGE.inbox-${OE}`, {}],
      [`$JS.API.CONSUMER.DELETE.EXCHANGE.inbox-${POST}`, {}],
      [
        `$JS.API.CONSUMER.DURABLE.CREATE.EXCHANGE.inbox-${POST}`,
        { stream_name: 'EXCHANGE', config: { durable_name: `inbox-${POST}`, filter_subject: 'pex.msg.>' } },
      ],
      [
        `$JS.API.CONSUMER.DURABLE.CREATE.EXCHANGE.inbox-${OE}`,
        {
          stream_name: 'EXCHANGE',
          config: { durable_name: `inbox-${OE}`, filter_subject: `pex.msg.*.*.${OE}` },
        },
      ],
      [
        '$JS.API.CONSUMER.CREATE.EXCHANGE',
        { stream_name: 'EXCHANGE', config: { filter_subject: 'pex.msg.>' } },
      ],
      ['$JS.API.STREAM.LIST', {}],
      ['$JS.API.STREAM.NAMES', {}],
      ['$JS.API.CONSUMER.LIST.EXCHANGE', {}],
    ];
    for (const [subject, body] of cases) {
      for (const prefix of ['$JS.API', '$JS.EX.API']) {
        const s2 = subject.replace('$JS.API', prefix);
        const answer = await post.request(s2, JSON.stringify(body), { timeout: 3_000 }).then(
          (m) => m.string(),
          (err: unknown) => String(err),
        );
        expect(answer, s2).toMatch(/Permissions Violation for Publish|not found|no responders|503/i);
      }
    }
    const op = await connectOperator(deployment, server.url);
    try {
      const jsm = await jetstreamManager(op);
      expect((await jsm.streams.names().next()).sort()).toEqual(
        ['DEADLETTER', 'EXCHANGE', 'KV_directory', 'LEDGER'].sort(),
      );
      expect((await jsm.consumers.info('EXCHANGE', `inbox-${OE}`)).config.filter_subject).toBe(
        `pex.msg.*.*.${OE}`,
      );
    } finally {
      await op.close();
    }
  });

  test('isolation - a participant reads the anchor-signed directory with its own credentials but cannot write it', async () => {
    const anchor = await writeAnchor(join(home, 'anchor'));
    const anchorKey = await loadAnchorPrivateKey(anchor.privatePath);
    const oeKeys = parties.keys.get(OE)!;
    const signed = await signEntry(
      makeEntry(OE, OE, [toPublicJwk(oeKeys.signing)], oeKeys.encryption.map(toPublicJwk)),
      anchorKey,
    );
    const op = await connectOperator(deployment, server.url);
    try {
      await publishEntry(op, signed); // the operator provisions the bucket and publishes the entry
    } finally {
      await op.close();
    }
    const directory = await createDirectoryClient({ nc: post, anchor: anchor.publicKey });
    try {
      await directory.waitForRevision(1, 10_000);
      expect(directory.get(OE)?.id).toBe(OE);
      await expect(directory.resolve(OE, 'enc', new Date())).resolves.toMatchObject({ kty: 'EC' });
    } finally {
      await directory.close();
    }
    // its account holds a mirror, which takes no write, and EXCHANGE's bucket is not reachable from it
    expect(
      await violation(
        (nc) => jetstream(nc, { timeout: 3_000 }).publish(`$KV.directory.${POST}`, signed),
        post,
      ),
    ).toMatch(/no responders|jetstream is not enabled|503/i);
    for (const prefix of ['$JS.API', '$JS.EX.API']) {
      expect(
        await violation(
          (nc) =>
            nc.request(`${prefix}.STREAM.UPDATE.KV_directory`, JSON.stringify({ name: 'KV_directory' }), {
              timeout: 3_000,
            }),
          post,
        ),
      ).toMatch(/Permissions Violation for Publish/);
    }
    const op2 = await connectOperator(deployment, server.url);
    try {
      expect((await (await jetstreamManager(op2)).streams.info('KV_directory')).state.messages).toBe(1);
      // the mirror keeps the source's revisions, which clients read to refuse an entry put back
      await (await new Kvm(op2).open('directory')).put(OE, signed);
      const own = await jetstreamManager(post);
      await vi.waitUntil(async () => (await own.streams.info('KV_directory')).state.last_seq >= 2, {
        timeout: 10_000,
      });
      let revisions = 0;
      for await (const _ of await (await new Kvm(post).open('directory')).history({ key: OE })) revisions++;
      expect(revisions).toBe(2);
    } finally {
      await op2.close();
    }
  });

  test('isolation - connections without credentials, with unknown credentials, or without TLS are refused', async () => {
    const tls = clientTls(deployment, POST);
    // no TLS: plain-text CONNECT on a TLS-only port
    const plain = await rawSession(server.port, { tls: false });
    expect(plain.info.tls_required).toBe(true);
    await plain.closed;
    expect(plain.received()).not.toMatch(/PONG/);

    // TLS without a client certificate: the handshake or the first exchange fails
    const noCert = await rawSession(server.port, {
      tls: { ca: tls.ca },
      seed: credsOf(deployment, POST),
    }).then(
      async (s) => {
        await s.closed;
        return s.received();
      },
      (e: unknown) => `refused: ${String(e)}`,
    );
    expect(noCert).not.toMatch(/PONG/);

    // mutual TLS but no credentials
    const anon = await rawSession(server.port, { tls });
    expect(await anon.until(/-ERR 'Authorization Violation'/)).toContain('Authorization Violation');
    await anon.closed;

    // a bare nkey, and a user JWT signed by an account the operator never signed
    const stranger = new TextDecoder().decode(nkeys.createUser().getSeed());
    const unknown = await rawSession(server.port, { tls, seed: stranger });
    expect(await unknown.until(/-ERR 'Authorization Violation'/)).toContain('Authorization Violation');
    await unknown.closed;

    // the library refuses too, with a typed error
    await expect(
      connect({
        servers: server.url,
        authenticator: nkeyAuthenticator(new TextEncoder().encode(stranger)),
        tls: { ca: tls.ca, cert: tls.cert, key: tls.key },
        reconnect: false,
      }),
    ).rejects.toThrow(/Authorization Violation/i);
    await expect(
      connect({ servers: server.url, tls: { ca: tls.ca, cert: tls.cert, key: tls.key }, reconnect: false }),
    ).rejects.toThrow(/Authorization Violation/i);

    // the right identity succeeds over the same path
    const ok = await rawSession(server.port, { tls, seed: credsOf(deployment, POST) });
    expect(await ok.until(/PONG\r\n/)).not.toContain('-ERR');
    ok.close();
  });
});

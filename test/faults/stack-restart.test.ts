import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { createLedgerWriter, readLedger, writeLedgerExport } from '@passerelle/audit';
import { runCliCaptured } from '@passerelle/cli/internal';
import {
  exportDirectory,
  loadAnchorPrivateKey,
  makeEntry,
  writeAnchor,
  writeDirectoryFile,
} from '@passerelle/directory';
import { signEntry } from '@passerelle/directory/internal';
import { toPublicJwk } from '@passerelle/envelope';
import { type Exchange, loadCredentials } from '@passerelle/exchange';
import { DossierStore } from '@passerelle/procedure';
import type { NatsServer } from '@passerelle/testing';
import { describe, expect, test, vi } from 'vitest';
import { type SecureDeployment, connectAdmin, connectOperator } from '../../scripts/secure-exchange.js';
import { type Parties, connectSecureExchange, example, useSecuredServer } from '../support/secure.js';
import { OE, REGION } from '../support/participants.js';

const AUDITOR = 'auditor';
const BUCKET = `svc-${REGION}`;

interface Decisions {
  decided: number;
  ids: string[];
}

describe('the whole secured stack stopped and restarted', { timeout: 180_000 }, () => {
  let home: string;
  let deployment: SecureDeployment;
  let server: NatsServer;
  let parties: Parties;
  let anchorPath: string;
  let directoryPath: string;

  // the region service's state bucket is provisioned in the region's own account; the server keeps its
  // store in the scenario's folder, to be restarted on it
  useSecuredServer(
    'passerelle-restart-',
    [OE, REGION],
    { alsoKeys: [AUDITOR], storeInHome: true },
    async (s) => {
      ({ home, deployment, server, parties } = s);
      const anchor = await writeAnchor(join(home, 'anchor'));
      anchorPath = anchor.publicPath;
      const anchorKey = await loadAnchorPrivateKey(anchor.privatePath);
      const signed = await Promise.all(
        [...parties.keys.values()].map((k) =>
          signEntry(
            makeEntry(
              k.participantId,
              k.participantId,
              [toPublicJwk(k.signing)],
              k.encryption.map(toPublicJwk),
            ),
            anchorKey,
          ),
        ),
      );
      directoryPath = join(home, 'directory.json');
      await writeDirectoryFile(directoryPath, exportDirectory(signed, anchor.publicKey));
    },
  );

  /** The region's service: each residence decision applied once to its dossier state. */
  async function startRegion(): Promise<{ exchange: Exchange; store: DossierStore<Decisions> }> {
    const exchange = await connectSecureExchange(deployment, parties, REGION);
    const store = new DossierStore<Decisions>(await new Kvm(exchange.nc).open(BUCKET));
    exchange.subscribe({
      'residence-decided': async (m) => {
        await store.apply(
          REGION,
          m.meta.dossierId,
          m.meta.id,
          (cur) => ({ state: { decided: (cur?.decided ?? 0) + 1, ids: [...(cur?.ids ?? []), m.meta.id] } }),
          async () => undefined,
        );
      },
    });
    return { exchange, store };
  }

  /** The auditor, with its own credentials: records every envelope and receipt not yet in the ledger. */
  async function audit(fromExchangeSeq: number): Promise<number> {
    const c = await loadCredentials(deployment.credentialsFile(AUDITOR));
    const auditorNc = await connect({ ...c.connection, servers: c.servers });
    const op = await connectOperator(deployment, server.url);
    try {
      const writer = await createLedgerWriter({
        nc: auditorNc,
        auditorKey: parties.keys.get(AUDITOR)!.signing,
        resolver: parties.resolver,
        checkpointEvery: 4,
        checkpointIntervalMs: 0,
      });
      const last = (await (await jetstreamManager(op)).streams.info('EXCHANGE')).state.last_seq;
      const consumer = await jetstream(op).consumers.get('EXCHANGE', {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: fromExchangeSeq,
      });
      for (let seq = fromExchangeSeq; seq <= last;) {
        const msg = await consumer.next({ expires: 5_000 });
        if (!msg) throw new Error(`EXCHANGE message ${seq} did not come`);
        if (msg.subject.startsWith('pex.msg.')) await writer.appendEnvelope(msg.data);
        else await writer.appendReceipt(msg.data);
        seq = msg.seq + 1;
      }
      await writer.checkpoint();
      await writer.close();
      return last + 1;
    } finally {
      await auditorNc.close();
      await op.close();
    }
  }

  async function verifyLedger(): Promise<{ code: number; out: string }> {
    const op = await connectOperator(deployment, server.url);
    const file = join(home, `ledger-${Date.now()}.jsonl`);
    try {
      await writeLedgerExport(file, readLedger(op, { from: 1 }), { from: 1 });
    } finally {
      await op.close();
    }
    const { code, out, err } = await runCliCaptured([
      'audit',
      'verify',
      '--file',
      file,
      '--anchor',
      anchorPath,
      '--directory',
      directoryPath,
    ]);
    return { code, out: [out, err].filter(Boolean).join('\n') };
  }

  /** The region's dossier states (read in its account by its administrator) and the ledger's size. */
  async function snapshot(): Promise<{ states: Record<string, unknown>; ledger: unknown }> {
    const states: Record<string, unknown> = {};
    const admin = await connectAdmin(deployment, REGION, server.url);
    try {
      const kv = await new Kvm(admin).open(BUCKET);
      for await (const key of await kv.keys()) states[key] = (await kv.get(key))?.json();
    } finally {
      await admin.close();
    }
    const op = await connectOperator(deployment, server.url);
    try {
      const info = await (await jetstreamManager(op)).streams.info('LEDGER');
      return { states, ledger: { messages: info.state.messages, last: info.state.last_seq } };
    } finally {
      await op.close();
    }
  }

  test('faults - dossier states and the ledger survive a full stop; audit verify passes before and after', async () => {
    const office = await connectSecureExchange(deployment, parties, OE);
    let region = await startRegion();
    const sent: string[] = [];
    for (let i = 0; i < 10; i++) {
      const [m] = await office.send('residence-decided', example('residence-decided'), {
        to: REGION,
        dossierId: `dossier-r${i % 5}`,
      });
      sent.push(m!.id);
      await office.awaitReceipt(m!.id, 15_000);
    }
    await office.close();
    await region.exchange.close();
    const nextSeq = await audit(1);
    const before = await verifyLedger();
    expect(before.code, before.out).toBe(0);

    const saved = await snapshot();
    expect(Object.keys(saved.states)).toHaveLength(5);

    // Stop everything (clients are closed), then start the server again on the same store.
    await server.kill('SIGTERM');
    await server.restart();

    expect(await snapshot()).toEqual(saved);

    // The stack works on: a new decision is handled, receipted, audited, and the whole ledger verifies.
    const office2 = await connectSecureExchange(deployment, parties, OE);
    region = await startRegion();
    const [m] = await office2.send('residence-decided', example('residence-decided'), {
      to: REGION,
      dossierId: 'dossier-r0',
    });
    await office2.awaitReceipt(m!.id, 15_000);
    await vi.waitUntil(async () => (await region.store.get(REGION, 'dossier-r0'))?.decided === 3, {
      timeout: 10_000,
    });
    await office2.close();
    await region.exchange.close();
    await audit(nextSeq);
    const after = await verifyLedger();
    expect(after.code, after.out).toBe(0);
    expect(after.out).toMatch(/^ok {2}entries 1\.\./m);

    const final = await snapshot();
    expect((final.ledger as { messages: number }).messages).toBeGreaterThan(
      (saved.ledger as { messages: number }).messages,
    );
    const ids = Object.values(final.states).flatMap((s) => (s as { state: Decisions }).state.ids);
    expect(ids.sort()).toEqual([...sent, m!.id].sort());
  });
});

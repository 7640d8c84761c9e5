import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { readLedger } from '@passerelle/audit';
import { createLogger } from '@passerelle/exchange';
import { describe, expect, test, vi } from 'vitest';
import { connectOperator } from '../../scripts/secure-exchange.js';
import { AUDITOR_CONSUMER, createAuditorService } from '../../services/auditor/src/index.js';
import { connectSecureExchange, example, useSecuredScenario } from '../support/secure.js';
import { OE, POST } from '../support/participants.js';

const AUDITOR = 'auditor';

describe('secured server: the auditor with its own credentials', { timeout: 90_000 }, () => {
  // the client connection is the auditor's: user JWT, mutual TLS, private inbox, no provisioning rights
  const scenario = useSecuredScenario('passerelle-aud-', [POST, OE, AUDITOR], AUDITOR);

  test('auditor - provisioned by the operator, it records envelopes and receipts in LEDGER and dead-letters a forged seal', async () => {
    const { deployment, server, parties } = scenario;
    const auditor = await createAuditorService({
      nc: scenario.client,
      auditorKey: parties.keys.get(AUDITOR)!.signing,
      resolver: parties.resolver,
      provision: false,
      checkpointEvery: 1000,
      checkpointIntervalMs: 0,
      logger: createLogger(AUDITOR, { level: 'silent' }),
    });
    const sender = await connectSecureExchange(deployment, parties, POST);
    const receiver = await connectSecureExchange(deployment, parties, OE);
    try {
      receiver.subscribe({ 'visa-issued': async () => undefined });
      /** Sends a visa to the Office and waits for its receipt. */
      const sendVisa = async (dossierId: string) => {
        const [sent] = await sender.send('visa-issued', example('visa-issued'), { to: OE, dossierId });
        await sender.awaitReceipt(sent!.id, 15_000);
        return sent!;
      };
      await sendVisa('dossier-aud-0001');

      // a forged seal on the sender's own subject: the receiver and the auditor both refuse it
      const other = await sendVisa('dossier-aud-0002');
      const op = await connectOperator(deployment, server.url);
      try {
        const stored = await (await jetstreamManager(op)).streams.getMessage('EXCHANGE', { seq: other.seq });
        if (!stored) throw new Error(`EXCHANGE has no message ${other.seq}`);
        const envelope = stored.json<{ meta: { id: string }; jwe: string; seal: string }>();
        const seal = envelope.seal;
        const forged = { ...envelope, seal: `${seal.slice(0, -2)}${seal.endsWith('AA') ? 'BB' : 'AA'}` };
        await jetstream(sender.nc).publish(other.subject, JSON.stringify(forged), {
          msgID: `forged-${envelope.meta.id}`,
        });
      } finally {
        await op.close();
      }

      await vi.waitUntil(() => auditor.stats.deadLettered >= 1, { timeout: 30_000 });
      await auditor.caughtUp(30_000);
      expect(auditor.stats.envelopes).toBe(2);
      expect(auditor.stats.receipts).toBe(2);
      expect(auditor.stats.deadLettered).toBe(1);
      // the viewer's count of refused inputs reads DEADLETTER with the auditor's own rights
      const jsm = await jetstreamManager(scenario.client);
      const info = await jsm.streams.info('DEADLETTER', { subjects_filter: 'pex.dlq.auditor' });
      expect(info.state.subjects?.['pex.dlq.auditor']).toBe(1);
      await auditor.checkpoint();
      expect(auditor.index.lastSeq).toBeGreaterThanOrEqual(5); // 2 envelopes, 2 receipts, 1 checkpoint
      // the whole ledger reads back in one batch of direct gets through the auditor's import (as
      // `passerelle audit verify` and a restarted auditor read it): every entry, in order
      const seqs: number[] = [];
      for await (const m of readLedger(scenario.client)) seqs.push(m.seq);
      expect(seqs).toEqual(Array.from({ length: auditor.index.lastSeq }, (_, i) => i + 1));
    } finally {
      await sender.close();
      await receiver.close();
      await auditor.close();
    }
  });

  test('auditor - without its consumer, it says what the operator has to provision instead of creating it', async () => {
    const { deployment, server, parties } = scenario;
    const op = await connectOperator(deployment, server.url);
    try {
      await (await jetstreamManager(op)).consumers.delete('EXCHANGE', AUDITOR_CONSUMER);
    } finally {
      await op.close();
    }
    await expect(
      createAuditorService({
        nc: scenario.client,
        auditorKey: parties.keys.get(AUDITOR)!.signing,
        resolver: parties.resolver,
        provision: false,
        logger: createLogger(AUDITOR, { level: 'silent' }),
      }),
    ).rejects.toMatchObject({
      code: 'ERR_NOT_PROVISIONED',
      message: expect.stringContaining(AUDITOR_CONSUMER),
    });
  });
});

import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, test } from 'vitest';
import { OE, OFFICER, keptInOutbox, newDossierId, useProcedure, toPermitIssued, today } from './harness.js';

/**
 * A service stopped during an outage: its decided messages wait in the dossiers' outboxes, and stopping does
 * not wait for the minute or two of a publish's retries. Its own server: the test removes the EXCHANGE
 * stream.
 */
describe('service shutdown during an outage', () => {
  const h = useProcedure();

  test('shutdown - the Office stops while a decision it recorded retries its publish: the retries end, the message stays in the outbox', async () => {
    const id = newDossierId('shutdown');
    await toPermitIssued(h, id);

    // no stream takes messages any more: each publish times out (the harness observes pex.msg.>) and is
    // retried, for up to two minutes
    await (await jetstreamManager(h.nc)).streams.delete('EXCHANGE');
    const ending = h.office.act(OE, id, 'end-stay', { reason: 'other', endsOn: today(200) }, OFFICER);
    await new Promise((r) => setTimeout(r, 1_000));
    await h.office.close();

    // the case officer's decision stands; its message is kept for the next run, not lost and not retried on
    const ended = await ending;
    expect(ended.phase).toBe('closed');
    expect(h.events).toContainEqual(keptInOutbox(OE, id));
  }, 60_000);
});

import { describe, expect, test } from 'vitest';
import { requestFingerprint } from '../src/index.js';
import { POLL, bearer, http, useDemoDoor, useClientTokens, postKeyed, postDecision } from './fixtures.js';

describe('door idempotency', () => {
  const demo = useDemoDoor();
  const tokens = useClientTokens(demo, {
    decider: ['case-desk', ['read', 'decide']],
    other: ['other-desk', ['read', 'decide']],
  });

  const decide = (dossierId: string, key: string | undefined, body: unknown, token = tokens.decider) =>
    postDecision(
      demo,
      token,
      dossierId,
      JSON.stringify(body),
      key === undefined ? {} : { 'idempotency-key': key },
    );

  test('idempotency - a retry with the same key gets the first answer; nothing is decided or logged twice', async () => {
    const first = await decide('dossier-0001', 'decide-0001', { outcome: 'granted' });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const lastBefore = await demo.door.events.lastPosition();
    const retry = await decide('dossier-0001', 'decide-0001', { outcome: 'granted' });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.headers['content-type']).toBe(first.headers['content-type']);
    expect(retry.text).toBe(first.text);
    expect(demo.decisionRuns.get('dossier-0001')).toBe(1);
    expect(await demo.door.events.lastPosition()).toBe(lastBefore);
    // the same body with its members in another order is the same request
    const reordered = await http(
      demo,
      'POST',
      '/dossiers/dossier-0001/decisions',
      bearer(tokens.decider, { 'passerelle-officer': 'off-3f9a27c1', 'idempotency-key': 'decide-0001' }),
      '{ "outcome" : "granted" }',
    );
    expect(reordered.headers['idempotent-replayed']).toBe('true');
  });

  test('idempotency - the same key with another body, or on another dossier, is 422', async () => {
    expect((await decide('dossier-0002', 'decide-0002', { outcome: 'granted' })).status).toBe(201);
    const otherBody = await decide('dossier-0002', 'decide-0002', { outcome: 'refused' });
    expect(otherBody.status).toBe(422);
    expect(otherBody.json).toMatchObject({
      type: 'urn:problem-type:passerelle:idempotencyKeyReused',
      status: 422,
      code: 'ERR_IDEMPOTENCY_KEY_REUSED',
    });
    const otherDossier = await decide('dossier-0003', 'decide-0002', { outcome: 'granted' });
    expect(otherDossier.status).toBe(422);
    expect(demo.decisionRuns.get('dossier-0003')).toBeUndefined();
  });

  test('idempotency - keys are per client: another client with the same key runs its own request', async () => {
    const mine = await decide('dossier-0004', 'shared-key', { outcome: 'granted' });
    const theirs = await decide('dossier-0005', 'shared-key', { outcome: 'granted' }, tokens.other);
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.json.decidedBy.client).toBe('other-desk');
  });

  test('idempotency - a request still running with the key is 409; once done, the retry gets its answer', async () => {
    const running = postKeyed(demo, tokens.decider, '/slow/one', 'slow-1', '{}');
    await expect.poll(() => demo.slowWaiting(), POLL).toBe(1);
    const meanwhile = await postKeyed(demo, tokens.decider, '/slow/one', 'slow-1', '{}');
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.json).toMatchObject({
      type: 'urn:problem-type:passerelle:idempotencyInProgress',
      code: 'ERR_IDEMPOTENCY_IN_PROGRESS',
    });
    demo.releaseSlow();
    expect((await running).status).toBe(200);
    const after = await postKeyed(demo, tokens.decider, '/slow/one', 'slow-1', '{}');
    expect([after.status, after.headers['idempotent-replayed']]).toEqual([200, 'true']);
    expect(demo.slowWaiting()).toBe(0);
  });

  test('idempotency - a 5xx is not kept: the retry runs again under the same run id, then is kept', async () => {
    demo.failNext(1);
    const runsBefore = demo.flakyRuns.length;
    const failed = await postKeyed(demo, tokens.decider, '/flaky', 'flaky-1', '{"n":1}');
    expect(failed.status).toBe(503);
    const retried = await postKeyed(demo, tokens.decider, '/flaky', 'flaky-1', '{"n":1}');
    expect(retried.status).toBe(202);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    const runs = demo.flakyRuns.slice(runsBefore);
    expect(runs).toHaveLength(2);
    expect(runs[1]).toBe(runs[0]);
    // a UUID v7: a handler may send an exchange message under it
    expect(runs[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(retried.json.runId).toBe(runs[0]);
    const third = await postKeyed(demo, tokens.decider, '/flaky', 'flaky-1', '{"n":1}');
    expect(third.headers['idempotent-replayed']).toBe('true');
    expect(demo.flakyRuns.length - runsBefore).toBe(2);
    // after a failure, another request under the key is still refused
    demo.failNext(1);
    await postKeyed(demo, tokens.decider, '/flaky', 'flaky-2', '{"n":2}');
    const switched = await postKeyed(demo, tokens.decider, '/flaky', 'flaky-2', '{"n":3}');
    expect(switched.status).toBe(422);
  });

  test('idempotency - a refusal (4xx) is kept too: the retry gets the same refusal without running again', async () => {
    expect((await decide('dossier-0006', 'first-0006', { outcome: 'granted' })).status).toBe(201);
    const refused = await decide('dossier-0006', 'second-0006', { outcome: 'refused' });
    expect([refused.status, refused.json.code]).toEqual([409, 'ERR_DUPLICATE_DECISION']);
    const runs = demo.decisionRuns.get('dossier-0006');
    const again = await decide('dossier-0006', 'second-0006', { outcome: 'refused' });
    expect([again.status, again.headers['idempotent-replayed']]).toEqual([409, 'true']);
    expect(again.json.code).toBe('ERR_DUPLICATE_DECISION');
    expect(demo.decisionRuns.get('dossier-0006')).toBe(runs);
  });

  test('idempotency - an action without the key, or with a malformed one, is a badRequest naming the header', async () => {
    for (const key of [undefined, '', 'é-not-ascii', 'x'.repeat(256)]) {
      const res = await decide('dossier-0007', key, { outcome: 'granted' });
      expect(res.status, String(key)).toBe(400);
      expect(res.json).toMatchObject({
        type: 'urn:problem-type:belgif:badRequest',
        code: 'ERR_IDEMPOTENCY_KEY_MISSING',
        issues: [expect.objectContaining({ in: 'header', name: 'Idempotency-Key' })],
      });
    }
    expect(demo.decisionRuns.get('dossier-0007')).toBeUndefined();
  });

  test('idempotency - records are sealed: the bucket holds no answer in the clear', async () => {
    const { Kvm } = await import('@nats-io/kv');
    const kv = await new Kvm(demo.nc).open(`door-${demo.door.options.name}-idempotency`);
    const status = await kv.status();
    expect(status.ttl).toBe(24 * 3_600_000);
    for await (const key of await kv.keys()) {
      const text = (await kv.get(key))!.string();
      expect(text).not.toContain('dossier-');
      expect(text).not.toContain('granted');
    }
  });

  test('idempotency - fingerprints: member order does not matter, the route, parameters and body do', () => {
    const a = requestFingerprint('POST', '/d/:id', { id: '1' }, { b: 1, a: [1, { y: 2, x: 1 }] });
    expect(requestFingerprint('POST', '/d/:id', { id: '1' }, { a: [1, { x: 1, y: 2 }], b: 1 })).toBe(a);
    expect(requestFingerprint('POST', '/d/:id', { id: '2' }, { b: 1, a: [1, { y: 2, x: 1 }] })).not.toBe(a);
    expect(requestFingerprint('POST', '/e/:id', { id: '1' }, { b: 1, a: [1, { y: 2, x: 1 }] })).not.toBe(a);
    expect(requestFingerprint('POST', '/d/:id', { id: '1' }, { b: 1, a: [{ y: 2, x: 1 }, 1] })).not.toBe(a);
  });
});

import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { createLogger } from '../src/index.js';

/** A logger writing to memory, and what it wrote. */
function capture(): { log: ReturnType<typeof createLogger>; out: () => string } {
  let written = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      written += chunk.toString();
      cb();
    },
  });
  return { log: createLogger('test', { level: 'info', destination: sink }), out: () => written };
}

describe('logger', () => {
  test('logger - payloads, keys and raw envelopes are redacted from log lines', () => {
    const { log, out } = capture();
    log.info(
      {
        id: 'm-1',
        payload: { applicant: { familyName: 'Janssens', passportNumber: 'EH1234567' } },
        keys: { signing: { d: 'secret-d' } },
        message: { jwe: 'eyJhbGciOi.secret', payload: { name: 'Janssens' } },
        key: { d: 'another-secret' },
      },
      'sent',
    );
    expect(out()).toContain('"id":"m-1"');
    for (const secret of ['Janssens', 'EH1234567', 'secret-d', 'eyJhbGciOi', 'another-secret'])
      expect(out()).not.toContain(secret);
    expect(out()).toContain('[redacted]');
  });

  test('logger - a payload or a person nested at any depth is redacted; the rest of the line stays', () => {
    const { log, out } = capture();
    log.info(
      {
        event: { message: { payload: { familyName: 'Janssens' } }, dossierId: 'DOSSIER-0001' },
        holder: { passportNumber: 'EH1234567' },
        steps: [{ detail: { applicant: { address: 'rue Haute 1' } } }],
        err: new Error('boom'),
      },
      'handled',
    );
    for (const secret of ['Janssens', 'EH1234567', 'rue Haute']) expect(out()).not.toContain(secret);
    expect(out()).toContain('"dossierId":"DOSSIER-0001"');
    expect(out()).toContain('boom');
  });
});

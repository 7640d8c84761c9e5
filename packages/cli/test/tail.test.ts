import { describe, expect, test } from 'vitest';
import { concerns, describeTraffic } from '../src/commands/tail.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('passerelle tail', () => {
  test('tail - an envelope line shows type, parties, id and dossier, never the payload', () => {
    const body = JSON.stringify({
      meta: { id: 'm-1', dossierId: 'DOSSIER-0001', type: 'visa-issued' },
      jwe: 'ciphertext-with-personal-data',
      seal: 'a.b.c',
    });
    const line = describeTraffic('pex.msg.visa-issued.post-ankara.immigration-office', enc(body));
    expect(line).toContain('visa-issued post-ankara -> immigration-office');
    expect(line).toContain('id=m-1');
    expect(line).toContain('dossier=DOSSIER-0001');
    expect(line).not.toContain('ciphertext');
  });

  test('tail - a receipt line shows who acknowledged which message', () => {
    const claims = Buffer.from(
      JSON.stringify({ messageId: 'm-1', receivedAt: '2026-11-26T10:00:00.000Z' }),
    ).toString('base64url');
    const line = describeTraffic('pex.rcpt.immigration-office.post-ankara', enc(`h.${claims}.s`));
    expect(line).toBe('rcpt  immigration-office -> post-ankara  for=m-1 at=2026-11-26T10:00:00.000Z');
  });

  test('tail - garbage bodies are described by size, not echoed', () => {
    expect(describeTraffic('pex.msg.t.a.b', enc('not json'))).toContain('id=? dossier=?');
    expect(describeTraffic('other.subject', enc('x'))).toBeUndefined();
  });

  test('tail - the participant filter keeps traffic it sends or receives', () => {
    expect(concerns('pex.msg.visa-issued.post-ankara.immigration-office', 'post-ankara')).toBe(true);
    expect(concerns('pex.msg.visa-issued.post-ankara.immigration-office', 'immigration-office')).toBe(true);
    expect(concerns('pex.msg.visa-issued.post-ankara.immigration-office', 'commune-21004')).toBe(false);
    expect(concerns('pex.rcpt.immigration-office.post-ankara', 'post-ankara')).toBe(true);
    expect(concerns('pex.rcpt.immigration-office.post-ankara', undefined)).toBe(true);
  });
});

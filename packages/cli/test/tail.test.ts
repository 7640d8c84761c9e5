import { describe, expect, test } from 'vitest';
import { concerns, describeTraffic } from '../src/commands/tail.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const ID = '0190f5c2-aaaa-7bbb-8ccc-000000000001';

describe('passerelle tail', () => {
  test('tail - an envelope line shows type, parties, id and dossier, never the payload', () => {
    const body = JSON.stringify({
      meta: { id: ID, dossierId: 'DOSSIER-0001', type: 'visa-issued' },
      jwe: 'ciphertext-with-personal-data',
      seal: 'a.b.c',
    });
    const line = describeTraffic('pex.msg.visa-issued.post-ankara.immigration-office', enc(body));
    expect(line).toContain('visa-issued post-ankara -> immigration-office');
    expect(line).toContain(`id=${ID}`);
    expect(line).toContain('dossier=DOSSIER-0001');
    expect(line).not.toContain('ciphertext');
  });

  test('tail - a receipt line shows who acknowledged which message', () => {
    const claims = Buffer.from(
      JSON.stringify({ messageId: ID, receivedAt: '2026-11-26T10:00:00.000Z' }),
    ).toString('base64url');
    const line = describeTraffic('pex.rcpt.immigration-office.post-ankara', enc(`h.${claims}.s`));
    expect(line).toBe(`rcpt  immigration-office -> post-ankara  for=${ID} at=2026-11-26T10:00:00.000Z`);
  });

  test('tail - garbage bodies are described by size, not echoed', () => {
    expect(describeTraffic('pex.msg.t.a.b', enc('not json'))).toContain('id=? dossier=?');
    // traffic is read before any check: what is not shaped as an id or a dossier is not shown
    const forged = JSON.stringify({
      meta: { id: 'JANSSENS Marie P9988776', dossierId: '\u001b[2J\nP9988776 JANSSENS' },
    });
    expect(describeTraffic('pex.msg.t.a.b', enc(forged))).toBe(
      'msg   t a -> b  id=? dossier=? ' + `${enc(forged).length} B`,
    );
    const claims = Buffer.from(JSON.stringify({ messageId: 'JANSSENS', receivedAt: 'rue Haute 1' })).toString(
      'base64url',
    );
    expect(describeTraffic('pex.rcpt.a.b', enc(`h.${claims}.s`))).toBe('rcpt  a -> b  for=? at=?');
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

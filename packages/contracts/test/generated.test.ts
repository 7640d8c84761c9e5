import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { renderContractOutputs } from '../../../scripts/gen-contracts.js';
import { loadContracts, natsPermissionsFor, type Contracts } from '../src/index.js';
import type { PayloadByType, ResidenceDecided } from '../src/generated/payloads.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

// Loading compiles every schema: seconds on a busy two-core machine, hence the hook timeouts.
describe('generated from the agreement', () => {
  let outputs: Map<string, string>;
  let contracts: Contracts;
  beforeAll(async () => {
    outputs = await renderContractOutputs();
    contracts = await loadContracts();
  }, 60_000);

  test('generated - committed outputs are current (run pnpm gen:contracts after changing contracts or schemas)', () => {
    expect([...outputs.keys()].sort()).toEqual(
      expect.arrayContaining([
        'contracts/README.md',
        'contracts/asyncapi.yaml',
        'infra/permissions/commune.json',
        'packages/contracts/src/generated/payloads.ts',
      ]),
    );
    for (const [file, content] of outputs) expect(readFileSync(`${root}${file}`, 'utf8'), file).toBe(content);
  });

  test('generated - @asyncapi/parser reads contracts/asyncapi.yaml with zero errors', async () => {
    const text = readFileSync(`${root}contracts/asyncapi.yaml`, 'utf8');
    const { document, diagnostics } = await new Parser().parse(text);
    const errors = diagnostics.filter((d) => Number(d.severity) === 0);
    expect(errors.map((e) => `${e.code} ${e.path.join('/')} ${e.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    const raw = parse(text) as { channels: Record<string, { address: string }> };
    expect(raw.channels['residence-decided.immigration-office.consular-post']?.address).toBe(
      'pex.msg.residence-decided.{sender}.{recipient}',
    );
    expect(raw.channels.receipt?.address).toBe('pex.rcpt.{sender}.{recipient}');
    expect(raw.channels['residence-decided.commune.immigration-office']).toBeUndefined();
    expect(document?.messages().all().length).toBe(contracts.types().length);
    // The parser runs a full Spectral ruleset: seconds on a busy two-core machine.
  }, 60_000);

  test('generated - NATS permissions follow the agreement: a commune publishes only its own types, as itself', () => {
    const commune = natsPermissionsFor(contracts, 'commune-21004');
    expect(commune.publish.allow).toContain('pex.msg.permit-issued.commune-21004.*');
    expect(commune.publish.allow).toContain('pex.msg.arrival-registered.commune-21004.immigration-office');
    expect(commune.publish.allow.some((s) => s.startsWith('pex.msg.residence-decided.'))).toBe(false);
    expect(commune.publish.allow).toContain('pex.rcpt.commune-21004.*');
    expect(commune.publish.allow).toContain('$JS.API.CONSUMER.MSG.NEXT.EXCHANGE.inbox-commune-21004');
    expect(commune.publish.allow).toContain('$JS.ACK.EXCHANGE.inbox-commune-21004.>');
    expect(commune.subscribe.allow).toEqual(['_INBOX_commune-21004.>']);
    for (const s of commune.publish.allow) expect(s).not.toContain('{self}');
    const office = natsPermissionsFor(contracts, 'immigration-office');
    expect(office.publish.allow).toContain('pex.msg.residence-decided.immigration-office.*');
    expect(office.publish.allow.some((s) => s.includes('application-submitted'))).toBe(false);
    const post = natsPermissionsFor(contracts, 'post-lagos');
    expect(post.publish.allow.filter((s) => s.startsWith('pex.msg.'))).toEqual([
      'pex.msg.visa-issued.post-lagos.immigration-office',
    ]);
  });

  test('generated - payload types describe the schemas (compile-time check)', () => {
    const decision: ResidenceDecided = {
      annex: '46',
      decidedOn: '2026-12-15',
      period: { from: '2027-01-04', to: '2029-12-31' },
      permitToIssue: 'annex-60',
      visaRequired: true,
      decisionDocument: {
        sha256: 'a'.repeat(64),
        mediaType: 'application/pdf',
        size: 1,
        objectKey: 'k/1.pdf',
      },
    };
    const byType: PayloadByType['residence-decided'] = decision;
    expect(() => contracts.validate('residence-decided', 1, byType)).not.toThrow();
  });
});

import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { createLogger } from '@passerelle/exchange';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { watchCredentialExpiry } from '../src/internal.js';

const DAY = 86_400_000;

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    logger: createLogger('commune-21004', { level: 'info', destination }),
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('credential expiry', () => {
  const now = new Date('2027-03-01T00:00:00Z');

  test('credential expiry - within 30 days, a warning names the date and the gauge holds it', async () => {
    const registry = new Registry();
    const { logger, lines } = capture();
    const expiresAt = new Date(now.getTime() + 12 * DAY);
    const stop = watchCredentialExpiry({
      registry,
      logger,
      participant: 'commune-21004',
      expiresAt,
      now: () => now,
    });
    stop();
    const warning = lines().find((l) => l['level'] === 40);
    expect(warning).toMatchObject({
      participant: 'commune-21004',
      expiresAt: expiresAt.toISOString(),
      daysLeft: 12,
    });
    expect(String(warning?.['msg'])).toMatch(/expire within 30 days/);
    const text = await registry.metrics();
    expect(text).toContain(`pex_credentials_not_after_timestamp_seconds ${expiresAt.getTime() / 1000}`);
  });

  test('credential expiry - further away, the gauge alone; expired, an error', async () => {
    const far = capture();
    watchCredentialExpiry({
      registry: new Registry(),
      logger: far.logger,
      participant: 'commune-21004',
      expiresAt: new Date(now.getTime() + 200 * DAY),
      now: () => now,
    })();
    expect(far.lines().filter((l) => (l['level'] as number) >= 40)).toEqual([]);
    const past = capture();
    watchCredentialExpiry({
      registry: new Registry(),
      logger: past.logger,
      participant: 'commune-21004',
      expiresAt: new Date(now.getTime() - DAY),
      now: () => now,
    })();
    expect(past.lines().find((l) => l['level'] === 50)?.['msg']).toMatch(/expired/);
  });

  test('credential expiry - the alert rule reads the gauge the services serve', () => {
    const rules = readFileSync(
      new URL('../../../infra/prometheus/passerelle.rules.yml', import.meta.url),
      'utf8',
    );
    expect(rules).toMatch(
      /alert: PasserelleCredentialsExpiringSoon\s+expr: pex_credentials_not_after_timestamp_seconds - time\(\) < 30 \* 86400/,
    );
  });
});

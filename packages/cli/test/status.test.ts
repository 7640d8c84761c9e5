import { MIN_SERVER_VERSION } from '@passerelle/exchange';
import { describe, expect, test } from 'vitest';
import { versionWarning } from '../src/internal.js';

describe('passerelle status', () => {
  test('status - a server older than the minimum gets a warning naming both releases and the fix', () => {
    const warning = versionWarning({ version: '2.9.10', supported: false });
    expect(warning).toContain('2.9.10');
    expect(warning).toContain(MIN_SERVER_VERSION);
    expect(warning).toContain('bash scripts/setup.sh');
    expect(versionWarning({ version: '2.15.3', supported: true })).toBeUndefined();
  });
});

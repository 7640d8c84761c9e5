import { generateParticipantKeys, toPublicJwk } from '@passerelle/envelope';
import { describe, expect, test } from 'vitest';
import { entryOfKeys } from '../src/internal.js';

describe('entry of keys', () => {
  test("entry of keys - publishes a participant's current keys, public halves only, under its id", async () => {
    const keys = await generateParticipantKeys('region-bruxelles');
    const at = new Date('2026-03-01T10:00:00Z');
    const entry = entryOfKeys(keys, 'Bruxelles Economie et Emploi', at);
    expect(entry).toEqual({
      id: 'region-bruxelles',
      kind: 'regional-authority',
      name: 'Bruxelles Economie et Emploi',
      signing: [toPublicJwk(keys.signing)],
      encryption: keys.encryption.map(toPublicJwk),
      updatedAt: '2026-03-01T10:00:00.000Z',
    });
    expect(JSON.stringify(entry)).not.toContain('"d"');
    expect(entryOfKeys(keys).name).toBe('region-bruxelles');
  });
});

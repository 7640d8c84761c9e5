import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { SETTINGS_DOCS, renderSettingsDocs } from '../scripts/settings-docs.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Variables the READMEs name that are no process's setting: the settings file's name, the test and set-up scripts'. */
const NOT_SETTINGS = new Set([
  'PASSERELLE_CONFIG',
  'PASSERELLE_NATS_SERVER',
  'PASSERELLE_TEST_NATS',
  'PASSERELLE_SETUP_BROWSER',
  'PORTAL_REDACT_PATHS', // a constant of the portal's code
]);

describe('settings docs', () => {
  test('settings docs - every README settings table is the one its schema gives (pnpm gen:settings)', () => {
    for (const { readme, current, text } of renderSettingsDocs(root)) {
      expect(current, `${readme} is stale: run pnpm gen:settings`).toBe(text);
    }
  });

  test('settings docs - every variable a README documents is a setting of some process schema', () => {
    const schemas = SETTINGS_DOCS.flatMap((d) => d.schemas);
    const known = new Set(
      schemas.flatMap((s) => Object.values(s.properties).flatMap((p) => (p['x-env'] ? [p['x-env']] : []))),
    );
    for (const { readme, current } of renderSettingsDocs(root)) {
      const named = new Set(current.match(/\b(?:PASSERELLE|PORTAL)_[A-Z][A-Z_]*[A-Z]\b/g) ?? []);
      const unknown = [...named].filter((v) => !known.has(v) && !NOT_SETTINGS.has(v));
      expect(unknown, `${readme} documents variables no settings schema has`).toEqual([]);
    }
  });

  test('settings docs - every setting is described, and only a process with a settings file has file-only settings', () => {
    for (const { schemas } of SETTINGS_DOCS) {
      for (const schema of schemas) {
        const withFile = Object.values(schema.properties).some((p) => !p['x-env']);
        for (const [key, p] of Object.entries(schema.properties)) {
          expect(p.description.length, `${schema.title} ${key}`).toBeGreaterThan(10);
          if (withFile) continue;
          expect(p['x-env'], `${schema.title} ${key} has no variable`).toMatch(/^[A-Z_]+$/);
        }
      }
    }
  });
});

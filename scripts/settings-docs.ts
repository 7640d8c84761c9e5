/**
 * Which README documents which process's settings: `pnpm gen:settings` writes each table from its schema,
 * and `test/settings-docs.test.ts` fails when one is stale.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type SettingsSchema, replaceSettingsTable } from '@passerelle/settings';
import { CLI_SETTINGS_SCHEMA } from '../packages/cli/src/settings-schema.js';
import { SERVICE_HOST_SETTINGS_SCHEMA } from '../packages/service-host/src/settings-schema.js';
import { AUDITOR_SETTINGS_SCHEMA } from '../services/auditor/src/settings-schema.js';
import { COMMUNE_SETTINGS_SCHEMA } from '../services/commune/src/settings-schema.js';
import { CONSULAR_POST_SETTINGS_SCHEMA } from '../services/consular-post/src/settings-schema.js';
import { IMMIGRATION_OFFICE_SETTINGS_SCHEMA } from '../services/immigration-office/src/settings-schema.js';
import { PORTAL_SETTINGS_SCHEMA } from '../services/portal/src/settings-schema.js';
import { REGIONAL_AUTHORITY_SETTINGS_SCHEMA } from '../services/regional-authority/src/settings-schema.js';
import { LAUNCHER_SETTINGS_SCHEMA } from './launcher-settings-schema.js';

/** Each README (from the repository root) and the settings schemas whose tables it holds. */
export const SETTINGS_DOCS: readonly { readme: string; schemas: readonly SettingsSchema[] }[] = [
  { readme: 'README.md', schemas: [LAUNCHER_SETTINGS_SCHEMA, CLI_SETTINGS_SCHEMA] },
  { readme: 'packages/service-host/README.md', schemas: [SERVICE_HOST_SETTINGS_SCHEMA] },
  { readme: 'services/regional-authority/README.md', schemas: [REGIONAL_AUTHORITY_SETTINGS_SCHEMA] },
  { readme: 'services/immigration-office/README.md', schemas: [IMMIGRATION_OFFICE_SETTINGS_SCHEMA] },
  { readme: 'services/consular-post/README.md', schemas: [CONSULAR_POST_SETTINGS_SCHEMA] },
  { readme: 'services/commune/README.md', schemas: [COMMUNE_SETTINGS_SCHEMA] },
  { readme: 'services/auditor/README.md', schemas: [AUDITOR_SETTINGS_SCHEMA] },
  { readme: 'services/portal/README.md', schemas: [PORTAL_SETTINGS_SCHEMA] },
];

/**
 * Each README as it should be: its current text with every settings table generated again.
 *
 * @example
 * ```ts
 * for (const { readme, text } of renderSettingsDocs(root)) writeFileSync(join(root, readme), text);
 * ```
 */
export function renderSettingsDocs(root: string): { readme: string; current: string; text: string }[] {
  return SETTINGS_DOCS.map(({ readme, schemas }) => {
    const current = readFileSync(join(root, readme), 'utf8');
    const text = schemas.reduce((md, schema) => replaceSettingsTable(md, schema, readme), current);
    return { readme, current, text };
  });
}

/** Writes the settings tables of the READMEs from the settings schemas (`pnpm gen:settings`). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSettingsDocs } from './settings-docs.js';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const { readme, current, text } of renderSettingsDocs(root)) {
  if (text === current) continue;
  writeFileSync(join(root, readme), text);
  console.log(`${readme} written`);
}

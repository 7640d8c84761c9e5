/**
 * What the generators (`pnpm gen:contracts`, `pnpm gen:infra`) share: writing the files they render under the
 * repository root, and running only when started as a script (their tests import the renderers).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started with. */
export function isMainModule(moduleUrl: string): boolean {
  return Boolean(process.argv[1]) && moduleUrl === pathToFileURL(process.argv[1]!).href;
}

/** Writes each rendered file (path relative to `root` → content), making its folder, and says so. */
export function writeGeneratedFiles(root: string, outputs: Map<string, string>): void {
  for (const [file, content] of outputs) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), content);
    console.log(`${file} written`);
  }
}

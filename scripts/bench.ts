/**
 * `pnpm bench <name> [args…]`: runs `scripts/bench/<name>.ts`. Each benchmark measures Passerelle against
 * a baseline in the same run and prints a Markdown block for BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'bench');
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''));
const [name, ...rest] = process.argv.slice(2);
if (!name || !existsSync(join(dir, `${name}.ts`))) {
  console.error(`usage: pnpm bench <${available.join('|')}> [options]`);
  process.exit(2);
}
// --expose-gc: benchmarks that compare several subjects collect the heap between them
const result = spawnSync(
  process.execPath,
  ['--expose-gc', '--import', 'tsx', join(dir, `${name}.ts`), ...rest],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);

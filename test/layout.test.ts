import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { longFunctions } from './support/function-length.js';
import { unneededExports } from './support/public-api.js';

const root = join(import.meta.dirname, '..');

describe('layout', () => {
  test('layout - the README table names every package, and the exchange README every runtime file', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const name of readdirSync(join(root, 'packages'))) expect(readme).toContain(`packages/${name}`);
    const exchange = readFileSync(join(root, 'packages/exchange/README.md'), 'utf8');
    const files = readdirSync(join(root, 'packages/exchange/src')).filter((f) => f.endsWith('.ts'));
    for (const file of files) expect(exchange).toContain(`\`${file}\``);
  });

  test('layout - every name of a package index.ts is needed by a program outside the package', () => {
    // A name that only tests or the package itself use belongs in its internal.ts.
    const unneeded = unneededExports(root).filter((report) => report.unneeded.length > 0);
    expect(unneeded.map(({ packageName, unneeded: names }) => `${packageName}: ${names.join(', ')}`)).toEqual(
      [],
    );
  });

  test('layout - no function of the packages and services runs over 120 lines', () => {
    expect(longFunctions(root, 120).map((f) => `${f.file}:${f.line} (${f.lines} lines)`)).toEqual([]);
    // the check does find functions: at a lower limit, some are over it
    expect(longFunctions(root, 40).length).toBeGreaterThan(0);
  });
});

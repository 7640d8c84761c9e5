import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
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
});

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..');

describe('layout', () => {
  test('layout - the README table names every package, and the exchange README every runtime file', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const name of readdirSync(join(root, 'packages'))) expect(readme).toContain(`packages/${name}`);
    const exchange = readFileSync(join(root, 'packages/exchange/README.md'), 'utf8');
    const files = readdirSync(join(root, 'packages/exchange/src')).filter((f) => f.endsWith('.ts'));
    for (const file of files) expect(exchange).toContain(`\`${file}\``);
  });
});

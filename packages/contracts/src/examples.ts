import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The folder of a message type's examples for its newest schema version (`schemas/examples/<type>.v<N>`):
 * tests, benchmarks and the demo follow a schema's new version without naming it.
 *
 * @example
 * ```ts
 * const dir = exampleFolder(repoRoot, 'application-submitted'); // …/application-submitted.v2
 * ```
 */
export function exampleFolder(root: string, type: string): string {
  const base = join(root, 'schemas', 'examples');
  const versions = readdirSync(base)
    .map((dir) => new RegExp(`^${type.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.v(\\d+)$`).exec(dir))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  if (versions.length === 0) throw new Error(`no examples for ${type} in ${base}`);
  return join(base, `${type}.v${Math.max(...versions)}`);
}

/** A valid example payload of a message type's newest version: the one named, or the first `valid-*.json`. */
export function readExample(root: string, type: string, name?: string): unknown {
  const dir = exampleFolder(root, type);
  const file =
    name ??
    readdirSync(dir)
      .filter((f) => f.startsWith('valid-'))
      .sort()[0];
  if (!file) throw new Error(`no valid example for ${type}`);
  return JSON.parse(
    readFileSync(join(dir, file.endsWith('.json') ? file : `${file}.json`), 'utf8'),
  ) as unknown;
}

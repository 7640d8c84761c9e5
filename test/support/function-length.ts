import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

// The functions of the packages' and services' sources that run longer than a reader can hold at once.
// Generated code (a `generated` folder) is left out: it is read through its generator.

/** A function longer than the limit: where it starts and how many lines it spans. */
export interface LongFunction {
  readonly file: string;
  readonly line: number;
  readonly lines: number;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return ['node_modules', 'dist', 'generated'].includes(entry.name) ? [] : sources(path);
    }
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every function, method, arrow or accessor with a body of `src/` under `packages/` and `services/` longer than `max` lines. */
export function longFunctions(root: string, max: number): LongFunction[] {
  const found: LongFunction[] = [];
  for (const group of ['packages', 'services']) {
    for (const pkg of readdirSync(join(root, group))) {
      let files: string[];
      try {
        files = sources(join(root, group, pkg, 'src'));
      } catch {
        continue;
      }
      for (const file of files) {
        const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
        const visit = (node: ts.Node): void => {
          if (ts.isFunctionLike(node) && 'body' in node && node.body) {
            const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
            const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
            if (last - first + 1 > max) {
              found.push({ file: relative(root, file), line: first + 1, lines: last - first + 1 });
            }
          }
          ts.forEachChild(node, visit);
        };
        visit(sf);
      }
    }
  }
  return found;
}

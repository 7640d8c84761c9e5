import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

// The cryptography runs on maintained modules through their public APIs (SECURITY.md, "Cryptography and
// dependencies"): no C of the project's own, and nothing compiled on the host at install.
const root = fileURLToPath(new URL('../../', import.meta.url));
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter(Boolean);

test('native code - the repository holds no C or C++ source, header or native build file', () => {
  const native = tracked.filter((f) =>
    /\.(c|h|cc|cpp|cxx|hpp|hh|s|S|asm|gyp|gypi|node)$|(^|\/)(binding\.gyp|CMakeLists\.txt|Makefile)$/.test(f),
  );
  expect(native).toEqual([]);
});

test('native code - no workspace package runs a script at install, and no dependency builds one', () => {
  const manifests = tracked.filter((f) => /(^|\/)package\.json$/.test(f) && !f.includes('node_modules/'));
  expect(manifests).toContain('package.json');
  const lifecycle = ['preinstall', 'install', 'postinstall', 'prepare', 'prepublish'];
  const withScripts = manifests.flatMap((f) => {
    const scripts = (JSON.parse(readFileSync(join(root, f), 'utf8')) as { scripts?: object }).scripts ?? {};
    return lifecycle.filter((s) => s in scripts).map((s) => `${f}: ${s}`);
  });
  expect(withScripts).toEqual([]);
  // pnpm runs the install scripts of these dependencies only; esbuild's puts its prebuilt binary in place
  const workspace = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const allowed = /^onlyBuiltDependencies:\n((?: {2}- .+\n)*)/m.exec(workspace)?.[1] ?? '';
  expect(allowed.split('\n').filter(Boolean)).toEqual(['  - esbuild']);
});

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

// Which names of a package's index.ts its users need. A name is needed when code outside the package
// that is not a test (services, scripts, other packages' sources) imports it, or when a needed export
// names it in its public signature (a parameter, a return type, a public member), so a user can write
// the type down. Everything else belongs in internal.ts. Syntax only (no type checker): inferred types
// are not followed, so a public function should declare its return type.

/** One name of a package's index.ts, with who imports it from outside the package. */
export interface PublicExport {
  readonly name: string;
  /** Non-test files outside the package that import the name from `@passerelle/<package>`. */
  readonly users: readonly string[];
}

/** The index.ts exports of one package that nothing outside the package's tests needs. */
export interface UnneededExports {
  readonly packageName: string;
  readonly exports: readonly PublicExport[];
  readonly unneeded: readonly string[];
}

const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', '.git']);

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    if (SKIPPED_FOLDERS.has(entry)) return [];
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.m?tsx?$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

function isTestFile(root: string, file: string): boolean {
  const path = relative(root, file).split('\\').join('/');
  return path.startsWith('test/') || path.includes('/test/') || /\.test\.m?tsx?$/.test(path);
}

const parsedFiles = new Map<string, ts.SourceFile>();

function parse(file: string): ts.SourceFile {
  let source = parsedFiles.get(file);
  if (source === undefined) {
    source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    parsedFiles.set(file, source);
  }
  return source;
}

const importsOf = new Map<ts.SourceFile, Map<string, string[]>>();

/** Names a file takes from `specifier`. */
function namesImported(source: ts.SourceFile, specifier: string): string[] {
  let imports = importsOf.get(source);
  if (imports === undefined) {
    imports = allImports(source);
    importsOf.set(source, imports);
  }
  return imports.get(specifier) ?? [];
}

/** Module → names a file takes from it: named imports, re-exports, `await import()` destructuring, `import('x').Name`. */
function allImports(source: ts.SourceFile): Map<string, string[]> {
  const imports = new Map<string, string[]>();
  const take = (specifier: string, ...names: string[]): void => {
    imports.set(specifier, [...(imports.get(specifier) ?? []), ...names]);
  };
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const specifier = node.moduleSpecifier.text;
      const bindings = ts.isImportDeclaration(node) ? node.importClause?.namedBindings : node.exportClause;
      if (bindings !== undefined && (ts.isNamedImports(bindings) || ts.isNamedExports(bindings))) {
        take(specifier, ...bindings.elements.map((element) => (element.propertyName ?? element.name).text));
      }
      if (bindings !== undefined && ts.isNamespaceImport(bindings)) {
        take(specifier, ...qualifiedBy(source, bindings.name.text));
      }
    }
    if (
      ts.isVariableDeclaration(node) &&
      ts.isObjectBindingPattern(node.name) &&
      node.initializer !== undefined &&
      ts.isAwaitExpression(node.initializer) &&
      ts.isCallExpression(node.initializer.expression) &&
      node.initializer.expression.expression.kind === ts.SyntaxKind.ImportKeyword
    ) {
      const [argument] = node.initializer.expression.arguments;
      if (argument !== undefined && ts.isStringLiteral(argument)) {
        for (const element of node.name.elements) {
          const key = element.propertyName ?? element.name;
          if (ts.isIdentifier(key)) take(argument.text, key.text);
        }
      }
    }
    if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal) &&
      node.qualifier !== undefined
    ) {
      take(node.argument.literal.text, leftmost(node.qualifier));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return imports;
}

/** The names a file reads from a namespace import: `ns.name` and `ns.Name` in types. */
function qualifiedBy(source: ts.SourceFile, namespace: string): string[] {
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAccessExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === namespace
    ) {
      names.push(node.name.text);
    }
    if (ts.isQualifiedName(node) && ts.isIdentifier(node.left) && node.left.text === namespace)
      names.push(node.right.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** `export { a, b as c } from './x.js'` in index.ts: exported name → the module and the name there. */
function indexExports(indexFile: string): Map<string, { module: string; local: string }> {
  const exports = new Map<string, { module: string; local: string }>();
  for (const statement of parse(indexFile).statements) {
    if (!ts.isExportDeclaration(statement)) continue;
    const { moduleSpecifier, exportClause } = statement;
    if (moduleSpecifier === undefined || !ts.isStringLiteral(moduleSpecifier)) {
      throw new Error(`${indexFile}: only \`export { … } from '…'\` statements are expected in index.ts`);
    }
    if (exportClause === undefined || !ts.isNamedExports(exportClause)) {
      throw new Error(`${indexFile}: \`export *\` grows the public API by accident; name each export`);
    }
    for (const element of exportClause.elements) {
      exports.set(element.name.text, {
        module: moduleSpecifier.text,
        local: (element.propertyName ?? element.name).text,
      });
    }
  }
  return exports;
}

function isPrivate(member: ts.ClassElement): boolean {
  if (member.name !== undefined && ts.isPrivateIdentifier(member.name)) return true;
  const modifiers = ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : [];
  return modifiers.some(
    (m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword,
  );
}

/** Identifiers a declaration names in its signature: type references, `typeof`, heritage; bodies skipped. */
function signatureNames(node: ts.Node, into: Set<string>): void {
  if (ts.isBlock(node)) return;
  if (ts.isClassDeclaration(node)) {
    for (const child of [...(node.typeParameters ?? []), ...(node.heritageClauses ?? [])])
      signatureNames(child, into);
    for (const member of node.members) if (!isPrivate(member)) signatureNames(member, into);
    return;
  }
  if (ts.isConstructorDeclaration(node)) {
    for (const parameter of node.parameters) signatureNames(parameter, into);
    return;
  }
  if (ts.isTypeReferenceNode(node)) into.add(leftmost(node.typeName));
  if (ts.isTypeQueryNode(node)) into.add(leftmost(node.exprName));
  if (ts.isExpressionWithTypeArguments(node) && ts.isIdentifier(node.expression))
    into.add(node.expression.text);
  ts.forEachChild(node, (child) => signatureNames(child, into));
}

function leftmost(name: ts.EntityName): string {
  return ts.isIdentifier(name) ? name.text : leftmost(name.left);
}

/** The top-level declarations of `name` in `file`, following `export { … } from` within the package. */
function declarationsOf(file: string, name: string, seen = new Set<string>()): ts.Node[] {
  const key = `${file}#${name}`;
  if (seen.has(key) || !existsSync(file)) return [];
  seen.add(key);
  const found: ts.Node[] = [];
  for (const statement of parse(file).statements) {
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name) && declaration.name.text === name) found.push(declaration);
      }
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name?.text === name
    ) {
      found.push(statement);
    } else if (
      ts.isExportDeclaration(statement) &&
      statement.moduleSpecifier !== undefined &&
      ts.isStringLiteral(statement.moduleSpecifier) &&
      statement.moduleSpecifier.text.startsWith('.') &&
      statement.exportClause !== undefined &&
      ts.isNamedExports(statement.exportClause)
    ) {
      for (const element of statement.exportClause.elements) {
        if (element.name.text !== name) continue;
        const target = resolve(dirname(file), statement.moduleSpecifier.text.replace(/\.js$/, '.ts'));
        found.push(...declarationsOf(target, (element.propertyName ?? element.name).text, seen));
      }
    }
  }
  return found;
}

/** For each package of `root/packages` with a `src/index.ts`, the exports its users do not need. */
export function unneededExports(root: string): UnneededExports[] {
  const packagesDir = join(root, 'packages');
  const everyFile = ['packages', 'services', 'scripts', 'test'].flatMap((dir) =>
    sourceFiles(join(root, dir)),
  );
  const parsed = new Map(everyFile.map((file) => [file, parse(file)]));
  const reports: UnneededExports[] = [];
  for (const folder of readdirSync(packagesDir).sort()) {
    const dir = join(packagesDir, folder);
    const indexFile = join(dir, 'src', 'index.ts');
    if (!existsSync(indexFile)) continue;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string;
      bin?: Record<string, string>;
    };
    const packageName = manifest.name;
    // A package's own commands (package.json "bin") are programs over its public API, as services are.
    const commands = new Set(Object.values(manifest.bin ?? {}).map((path) => join(dir, path)));
    // The test harness's users are tests; every other package's users are programs.
    const countsTests = packageName === '@passerelle/testing';
    const exports = indexExports(indexFile);
    const users = new Map<string, string[]>();
    for (const [file, source] of parsed) {
      const command = commands.has(file);
      if ((file.startsWith(dir + '/') && !command) || (!countsTests && isTestFile(root, file))) continue;
      for (const name of namesImported(source, command ? './index.js' : packageName)) {
        users.set(name, [...(users.get(name) ?? []), relative(root, file)]);
      }
    }
    const needed = new Set([...exports.keys()].filter((name) => users.has(name)));
    const queue = [...needed];
    for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
      const target = exports.get(name);
      if (target === undefined || !target.module.startsWith('.')) continue;
      const named = new Set<string>();
      const file = resolve(dirname(indexFile), target.module.replace(/\.js$/, '.ts'));
      for (const declaration of declarationsOf(file, target.local)) signatureNames(declaration, named);
      for (const other of named) {
        if (exports.has(other) && !needed.has(other)) {
          needed.add(other);
          queue.push(other);
        }
      }
    }
    reports.push({
      packageName,
      exports: [...exports.keys()].map((name) => ({ name, users: users.get(name) ?? [] })),
      unneeded: [...exports.keys()].filter((name) => !needed.has(name)).sort(),
    });
  }
  return reports;
}

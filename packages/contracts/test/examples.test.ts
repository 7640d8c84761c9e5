import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ContractError, SCHEMA_FILE_PATTERN } from '../src/internal.js';
import { useContracts } from './use-contracts.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const schemaFiles = readdirSync(join(root, 'schemas')).filter((f) => SCHEMA_FILE_PATTERN.test(f));

function examplesOf(schemaFile: string): { name: string; body: unknown }[] {
  const dir = join(root, 'schemas', 'examples', schemaFile.replace(/\.json$/, ''));
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((name) => ({ name, body: JSON.parse(readFileSync(join(dir, name), 'utf8')) as unknown }));
}

describe('schema examples', () => {
  const suite = useContracts();

  test('examples - every schema file has at least 2 valid and 3 invalid examples', () => {
    expect(schemaFiles.length).toBeGreaterThanOrEqual(15);
    for (const file of schemaFiles) {
      const names = examplesOf(file).map((e) => e.name);
      expect(
        names.filter((n) => n.startsWith('valid-')).length,
        `${file}: valid examples`,
      ).toBeGreaterThanOrEqual(2);
      expect(
        names.filter((n) => n.startsWith('invalid-')).length,
        `${file}: invalid examples`,
      ).toBeGreaterThanOrEqual(3);
      for (const n of names) expect(n, `${file}: example name`).toMatch(/^(valid|invalid)-[a-z0-9-]+\.json$/);
    }
  });

  test('examples - no example directory without its schema', () => {
    const dirs = readdirSync(join(root, 'schemas', 'examples'));
    for (const dir of dirs) expect(schemaFiles, `schemas/examples/${dir}`).toContain(`${dir}.json`);
  });

  for (const file of schemaFiles) {
    const [, type, version] = SCHEMA_FILE_PATTERN.exec(file)!;
    for (const { name, body } of examplesOf(file)) {
      test(`examples - ${type} v${version} ${name} ${name.startsWith('valid-') ? 'validates' : 'fails'}`, () => {
        if (name.startsWith('valid-')) {
          expect(() => suite.contracts.validate(type!, Number(version), body)).not.toThrow();
        } else {
          let caught: unknown;
          try {
            suite.contracts.validate(type!, Number(version), body);
          } catch (err) {
            caught = err;
          }
          expect(caught).toBeInstanceOf(ContractError);
          expect((caught as ContractError).code).toBe('ERR_SCHEMA_INVALID');
        }
      });
    }
  }

  test('examples - every projection of a valid example still validates for the recipients that receive it', () => {
    for (const file of schemaFiles) {
      const [, type, version] = SCHEMA_FILE_PATTERN.exec(file)!;
      const contract = suite.contracts.agreement().messages[type!]!;
      for (const { name, body } of examplesOf(file).filter((e) => e.name.startsWith('valid-'))) {
        const outcome = suite.contracts.outcomeOf(type!, body);
        for (const rule of contract.recipients) {
          if (rule.when?.outcome && (outcome === undefined || !rule.when.outcome.includes(outcome))) continue;
          const projected = suite.contracts.project(type!, rule.kind, body);
          expect(
            () => suite.contracts.validate(type!, Number(version), projected),
            `${type} ${name} → ${rule.kind}`,
          ).not.toThrow();
        }
      }
    }
  });
});

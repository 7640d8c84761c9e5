import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { loadContracts } from '../src/index.js';
import { ContractError } from '../src/internal.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dirs: string[] = [];

/** A scratch copy of contracts/ and schemas/ to break on purpose. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-contracts-'));
  dirs.push(dir);
  cpSync(join(repo, 'contracts'), join(dir, 'contracts'), { recursive: true });
  cpSync(join(repo, 'schemas'), join(dir, 'schemas'), { recursive: true });
  return dir;
}

function edit(file: string, change: (text: string) => string): void {
  const before = readFileSync(file, 'utf8');
  const after = change(before);
  expect(after).not.toBe(before);
  writeFileSync(file, after);
}

async function failure(root: string): Promise<ContractError> {
  try {
    await loadContracts({ root });
  } catch (err) {
    expect(err).toBeInstanceOf(ContractError);
    expect((err as ContractError).code).toBe('ERR_CONTRACT_FILE_INVALID');
    return err as ContractError;
  }
  throw new Error('loadContracts accepted a broken agreement');
}

/** The refusal of a copy of the agreement in which `file` has `from` replaced by `to`. */
async function failureWith(file: string, from: string, to: string): Promise<ContractError> {
  const root = scratch();
  edit(join(root, file), (t) => t.replace(from, to));
  return failure(root);
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loading the agreement', { timeout: 60_000 }, () => {
  test('load - the repository agreement and schemas load', async () => {
    const contracts = await loadContracts({ root: repo });
    expect(contracts.schemas().length).toBe(contracts.types().length);
    expect(contracts.definitions().map((d) => d.file)).toEqual(['schemas/defs/common.v1.json']);
  });

  test('load - a sender kind that does not exist names the file and the path', async () => {
    const err = await failureWith('contracts/exchange.yaml', 'senders: [commune]', 'senders: [mayor]');
    expect(err.details).toMatchObject({ file: 'contracts/exchange.yaml' });
    expect(String(err.details?.path)).toMatch(/^\/messages\/[a-z-]+\/senders\/0$/);
  });

  test('load - a projection giving a consular post criminal-record data is refused', async () => {
    const root = scratch();
    edit(join(root, 'contracts/exchange.yaml'), (t) =>
      t.replace(
        `      - kind: immigration-office
        projection: ['']
    receiptRequired: true
    retentionDays: 90
    personalData:
      travel-document: [/documents/passportCopy, /passportExpiresOn]`,
        `      - kind: immigration-office
        projection: ['']
      - kind: consular-post
        projection: [/documents]
    receiptRequired: true
    retentionDays: 90
    personalData:
      travel-document: [/documents/passportCopy, /passportExpiresOn]`,
      ),
    );
    const err = await failure(root);
    expect(err.details).toEqual({
      file: 'contracts/exchange.yaml',
      path: '/messages/documents-added/recipients/2/projection',
    });
    expect(err.message).toContain('never receives');
  });

  test.each([
    {
      what: 'a projection naming no property of the schema is refused',
      file: 'contracts/exchange.yaml',
      from: '/decidedOn, /endsOn, /reason, /decisionDocument]',
      to: '/decidedOn, /endsOn, /reasons]',
      says: '"/reasons" names no property of the stay-ended schema',
    },
    {
      what: 'a schema that breaks strict mode names its file',
      file: 'schemas/visa-issued.v1.json',
      from: '"visaType": { "const": "D" }',
      to: '"visaType": { "const": "D", "maxLenght": 1 }',
      says: 'maxLenght',
    },
  ])('load - $what', async ({ file, from, to, says }) => {
    const err = await failureWith(file, from, to);
    expect(err.details).toMatchObject({ file });
    expect(err.message).toContain(says);
  });

  test('load - a schema without a contract entry, and a contract entry without a schema, are refused', async () => {
    const root = scratch();
    writeFileSync(
      join(root, 'schemas/coffee-ordered.v1.json'),
      JSON.stringify({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: 'https://passerelle.invalid/schemas/coffee-ordered.v1.json',
        type: 'object',
      }),
    );
    expect((await failure(root)).details).toMatchObject({ file: 'schemas/coffee-ordered.v1.json' });
    unlinkSync(join(root, 'schemas/coffee-ordered.v1.json'));
    unlinkSync(join(root, 'schemas/visa-issued.v1.json'));
    expect((await failure(root)).details).toEqual({
      file: 'contracts/exchange.yaml',
      path: '/messages/visa-issued',
    });
  });

  test('load - a second schema version becomes the latest; the first still validates its messages', async () => {
    const root = scratch();
    const v1 = JSON.parse(readFileSync(join(root, 'schemas/visa-issued.v1.json'), 'utf8')) as {
      $id: string;
      properties: Record<string, unknown>;
    };
    v1.$id = v1.$id.replace('visa-issued.v1.json', 'visa-issued.v2.json');
    v1.properties.entries = { type: 'string', enum: ['single', 'multiple'] };
    writeFileSync(join(root, 'schemas/visa-issued.v2.json'), JSON.stringify(v1));
    const contracts = await loadContracts({ root });
    expect(contracts.latestVersion('visa-issued')).toBe(2);
    expect(contracts.types().find((t) => t.type === 'visa-issued')?.versions).toEqual([1, 2]);
    const visa = JSON.parse(
      readFileSync(join(root, 'schemas/examples/visa-issued.v1/valid-type-d.json'), 'utf8'),
    ) as Record<string, unknown>;
    contracts.validate('visa-issued', 1, visa);
    contracts.validate('visa-issued', 2, { ...visa, entries: 'multiple' });
    expect(() => contracts.validate('visa-issued', 1, { ...visa, entries: 'multiple' })).toThrow(
      ContractError,
    );
  });

  test('load - YAML and JSON syntax errors name the file', async () => {
    const root = scratch();
    writeFileSync(join(root, 'schemas/receipt.v1.json'), '{ "type": ');
    expect((await failure(root)).details).toMatchObject({ file: 'schemas/receipt.v1.json' });
    const other = scratch();
    edit(join(other, 'contracts/exchange.yaml'), (t) => t.replace('version: 2', 'version: 2\nversion: 3'));
    expect((await failure(other)).details).toMatchObject({ file: 'contracts/exchange.yaml' });
  });
});

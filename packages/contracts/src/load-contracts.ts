import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { ParticipantKinds, type ParticipantKind } from '@passerelle/directory';
import type { Agreement, MessageContract } from './agreement.js';
import { ContractError } from './contract-error.js';
import { createContracts, type Contracts, type LoadedDefinitions, type LoadedSchema } from './contracts.js';
import { parsePointer, pointersOverlap } from './pointer.js';
import { createSchemaCompiler } from './schema-compiler.js';

/** Options of {@link loadContracts}. */
export interface LoadContractsOptions {
  /** Directory holding `contracts/` and `schemas/`; the repository root by default. */
  root?: string;
}

/** `<type>.v<version>.json`; the type is a NATS token (lower-case kebab). */
export const SCHEMA_FILE_PATTERN = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\.v([1-9][0-9]*)\.json$/;

const JSON_SCHEMA_2020 = 'https://json-schema.org/draft/2020-12/schema';
const AGREEMENT_FILE = 'contracts/exchange.yaml';
const AGREEMENT_SCHEMA_FILE = 'contracts/exchange.schema.json';

/** Repository root, from this file's place in packages/contracts/src (or dist). */
function defaultRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

function fileError(file: string, path: string, problem: string, cause?: unknown): ContractError {
  return new ContractError('ERR_CONTRACT_FILE_INVALID', `${file}${path ? ` at ${path}` : ''}: ${problem}`, {
    details: { file, path },
    ...(cause === undefined ? {} : { cause }),
  });
}

async function readJson(root: string, file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(root, file), 'utf8');
  } catch (err) {
    throw fileError(file, '', 'cannot be read', err);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw fileError(file, '', `is not JSON (${(err as Error).message})`, err);
  }
}

function firstAjvError(errors: ErrorObject[] | null | undefined): { path: string; message: string } {
  const e = errors?.[0];
  if (!e) return { path: '', message: 'is invalid' };
  const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
  return { path: e.instancePath || '/', message: `${e.message ?? e.keyword}${extra}` };
}

async function loadAgreement(root: string): Promise<Agreement> {
  const agreementSchema = await readJson(root, AGREEMENT_SCHEMA_FILE);
  let check: ValidateFunction;
  try {
    check = createSchemaCompiler().compile(agreementSchema as object);
  } catch (err) {
    throw fileError(AGREEMENT_SCHEMA_FILE, '', (err as Error).message, err);
  }
  let text: string;
  try {
    text = await readFile(join(root, AGREEMENT_FILE), 'utf8');
  } catch (err) {
    throw fileError(AGREEMENT_FILE, '', 'cannot be read', err);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0].line;
    throw fileError(
      AGREEMENT_FILE,
      line ? `line ${line}` : '',
      yamlError.message.split('\n')[0] ?? 'YAML error',
    );
  }
  const data: unknown = doc.toJS();
  if (!check(data)) {
    const { path, message } = firstAjvError(check.errors);
    throw fileError(AGREEMENT_FILE, path, message);
  }
  return data as Agreement;
}

/** Top-level property names a schema may hold, across oneOf branches. */
function topLevelProperties(schema: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  const add = (s: unknown) => {
    const props = (s as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (props) for (const k of Object.keys(props)) names.add(k);
  };
  add(schema);
  for (const branch of (schema.oneOf as unknown[] | undefined) ?? []) add(branch);
  return names;
}

/** Cross-checks the agreement against itself and the schemas (the agreement's JSON Schema cannot). */
function checkAgreement(agreement: Agreement, schemas: LoadedSchema[]): void {
  const file = AGREEMENT_FILE;
  const schemaTypes = new Set(schemas.map((s) => s.type));
  let receiptTypes = 0;
  for (const [type, contract] of Object.entries<MessageContract>(agreement.messages)) {
    const at = `/messages/${type}`;
    if (!schemaTypes.has(type)) throw fileError(file, at, `no schema schemas/${type}.v<n>.json`);
    if ((contract.channel ?? 'message') === 'receipt') receiptTypes += 1;
    const latest = schemas.filter((s) => s.type === type).at(-1);
    const known = latest ? topLevelProperties(latest.schema) : new Set<string>();
    const checkPointer = (pointer: string, path: string) => {
      const first = parsePointer(pointer)[0];
      if (first !== undefined && first !== '*' && !known.has(first)) {
        throw fileError(file, path, `"${pointer}" names no property of the ${type} schema`);
      }
    };
    for (const [category, pointers] of Object.entries(contract.personalData)) {
      if (!Object.hasOwn(agreement.personalData, category)) {
        throw fileError(
          file,
          `${at}/personalData/${category}`,
          `undeclared personal-data category "${category}"`,
        );
      }
      pointers.forEach((p, i) => checkPointer(p, `${at}/personalData/${category}/${i}`));
    }
    const seen = new Set<ParticipantKind>();
    contract.recipients.forEach((rule, i) => {
      const rat = `${at}/recipients/${i}`;
      if (seen.has(rule.kind)) throw fileError(file, rat, `${rule.kind} is listed twice`);
      seen.add(rule.kind);
      rule.projection.forEach((p, j) => checkPointer(p, `${rat}/projection/${j}`));
      if (rule.when?.outcome) {
        const values = contract.outcome ? Object.values(contract.outcome.values) : [];
        for (const o of rule.when.outcome) {
          if (!values.includes(o)) throw fileError(file, `${rat}/when/outcome`, `unknown outcome "${o}"`);
        }
      }
      // Data minimisation: a kind never sees a category it is barred from, whatever the projection.
      for (const category of agreement.kinds[rule.kind]?.neverReceives ?? []) {
        if (!Object.hasOwn(agreement.personalData, category)) {
          throw fileError(file, `/kinds/${rule.kind}/neverReceives`, `undeclared category "${category}"`);
        }
        for (const sensitive of contract.personalData[category] ?? []) {
          const leak = rule.projection.find((p) => pointersOverlap(p, sensitive));
          if (leak !== undefined) {
            throw fileError(
              file,
              `${rat}/projection`,
              `a ${rule.kind} never receives ${category} data, but "${leak || '(whole payload)'}" includes ${sensitive}`,
            );
          }
        }
      }
    });
    if (contract.outcome) checkPointer(contract.outcome.pointer, `${at}/outcome/pointer`);
  }
  if (receiptTypes > 1)
    throw fileError(file, '/messages', 'more than one type travels on the receipt channel');
  for (const s of schemas) {
    if (!Object.hasOwn(agreement.messages, s.type))
      throw fileError(s.file, '', `type "${s.type}" is not in ${file}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Loads `contracts/exchange.yaml` and `schemas/`, checks them (the agreement against its JSON Schema, every
 * schema under ajv strict mode, the cross-references between them, the kinds' `neverReceives` rules) and
 * compiles each validator once. Any problem is an `ERR_CONTRACT_FILE_INVALID` naming the file and path.
 *
 * @example
 * ```ts
 * const contracts = await loadContracts();
 * contracts.authorize('immigration-office', 'residence-decided', 'commune-21004');
 * contracts.validate('residence-decided', 1, payload);
 * const forCommune = contracts.project('residence-decided', 'commune', payload);
 * ```
 */
export async function loadContracts(options: LoadContractsOptions = {}): Promise<Contracts> {
  const root = options.root ?? defaultRoot();
  const agreement = await loadAgreement(root);
  for (const kind of Object.keys(agreement.kinds)) {
    if (!(ParticipantKinds as readonly string[]).includes(kind))
      throw fileError(AGREEMENT_FILE, `/kinds/${kind}`, 'unknown kind');
  }

  const ajv = createSchemaCompiler();
  const definitions: LoadedDefinitions[] = [];
  const defsDir = join(root, 'schemas', 'defs');
  const defsFiles = (await readdir(defsDir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const name of defsFiles) {
    const file = relative(root, join(defsDir, name)).split('\\').join('/');
    const schema = await readJson(root, file);
    if (!isRecord(schema) || typeof schema.$id !== 'string')
      throw fileError(file, '/$id', 'a definitions file needs an $id');
    try {
      ajv.addSchema(schema);
    } catch (err) {
      throw fileError(file, '', (err as Error).message, err);
    }
    definitions.push({ file, schema });
  }

  const schemas: LoadedSchema[] = [];
  const entries = await readdir(join(root, 'schemas'), { withFileTypes: true }).catch((err: unknown) => {
    throw fileError('schemas', '', 'cannot be read', err);
  });
  for (const entry of entries.filter((e) => e.isFile()).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = `schemas/${entry.name}`;
    const match = SCHEMA_FILE_PATTERN.exec(entry.name);
    if (!match) {
      if (entry.name.endsWith('.json')) throw fileError(file, '', 'name is not <type>.v<version>.json');
      continue;
    }
    const schema = await readJson(root, file);
    if (!isRecord(schema)) throw fileError(file, '', 'is not a JSON object');
    if (schema.$schema !== JSON_SCHEMA_2020) throw fileError(file, '/$schema', `must be ${JSON_SCHEMA_2020}`);
    if (typeof schema.$id !== 'string' || !schema.$id.endsWith(`/${entry.name}`)) {
      throw fileError(file, '/$id', `must end with /${entry.name}`);
    }
    if (schema.type !== 'object') throw fileError(file, '/type', 'a payload is a JSON object');
    // Generators name the payload types after the title.
    if (typeof schema.title !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(schema.title)) {
      throw fileError(file, '/title', 'needs a PascalCase title (it names the generated payload type)');
    }
    schemas.push({ type: match[1]!, version: Number(match[2]), file, schema });
  }
  schemas.sort((a, b) => a.type.localeCompare(b.type) || a.version - b.version);

  const validators = new Map<string, ValidateFunction>();
  for (const s of schemas) {
    try {
      validators.set(`${s.type}@${s.version}`, ajv.compile(s.schema));
    } catch (err) {
      throw fileError(s.file, '', (err as Error).message, err);
    }
  }

  checkAgreement(agreement, schemas);
  return createContracts({ agreement, schemas, definitions, validators });
}

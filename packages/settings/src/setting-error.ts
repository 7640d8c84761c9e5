import type { ErrorObject } from 'ajv/dist/2020.js';
import { PasserelleError } from '@passerelle/errors';
import type { SettingSchema, SettingsSchema } from './settings-schema.js';

/** Where a setting's value came from, for the error to name what the user wrote. */
export interface SettingOrigins {
  /** Top-level settings whose value came from the JSON file. */
  readonly fromFile: ReadonlySet<string>;
}

/** The top-level setting a JSON pointer is in (`/timeLimits/reviewAfterWorkingDays` → `timeLimits`). */
function topLevel(pointer: string): string {
  return pointer.split('/')[1] ?? '';
}

/** A setting as the messages name it: its pointer, and its environment variable when it has one. */
function label(schema: SettingsSchema, pointer: string): string {
  const env = schema.properties[topLevel(pointer)]?.['x-env'];
  return env ? `${pointer} (${env})` : pointer;
}

/**
 * `ERR_CONFIG_INVALID` for one setting: the message names it by JSON pointer (and environment variable),
 * `details` carries the `pointer` and the `setting` as the user wrote it — the environment variable unless
 * the value came from the file, else the file's key path. Never the value: it may be a secret.
 *
 * @example
 * ```ts
 * throw invalidSetting('auditor', AUDITOR_SETTINGS_SCHEMA, '/tsaTrust', 'cannot be read');
 * ```
 */
export function invalidSetting(
  process: string,
  schema: SettingsSchema,
  pointer: string,
  problem: string,
  origins: SettingOrigins = { fromFile: new Set() },
  cause?: unknown,
): PasserelleError {
  const key = topLevel(pointer);
  const env = schema.properties[key]?.['x-env'];
  const setting = env && !origins.fromFile.has(key) ? env : pointer.slice(1).replaceAll('/', '.');
  return new PasserelleError(
    'ERR_CONFIG_INVALID',
    `${process} setting ${label(schema, pointer)} ${problem}`,
    {
      details: { pointer, setting },
      ...(cause !== undefined ? { cause } : {}),
    },
  );
}

const ARTICLES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

/** What a subschema accepts, in words (`an integer from 0 to 65535`, `one of "retention", "purge"`). */
export function expected(s: SettingSchema): string {
  if (typeof s['x-expects'] === 'string') return s['x-expects'];
  if (Array.isArray(s['enum'])) return `one of ${s['enum'].map((v) => JSON.stringify(v)).join(', ')}`;
  const min = s['minimum'];
  const max = s['maximum'];
  if (s.type === 'integer' || s.type === 'number') {
    const what = ARTICLES[s.type]!;
    if (typeof min === 'number' && typeof max === 'number') return `${what} from ${min} to ${max}`;
    if (typeof min === 'number') return `${what} of ${min} or more`;
    if (typeof max === 'number') return `${what} of ${max} or less`;
    return what;
  }
  if (s.type === 'string' && typeof s['minLength'] === 'number' && s['minLength'] > 0) {
    return 'a non-empty string';
  }
  if (s.type === 'array') {
    const items = s['items'] as SettingSchema | undefined;
    const of = items ? ` of ${expected(items).replace(/^an? /, '')}s` : '';
    return typeof s['minItems'] === 'number' && s['minItems'] > 0 ? `a non-empty list${of}` : `a list${of}`;
  }
  return s.type ? ARTICLES[s.type]! : 'valid';
}

/**
 * The errors to report among ajv's: those that are not one of the failed branches of an `anyOf` or
 * `oneOf` reported beside it (the branches' own errors say less than the whole).
 */
function ownErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  return errors.filter(
    (e) =>
      !errors.some(
        (o) =>
          o !== e && ['anyOf', 'oneOf'].includes(o.keyword) && e.schemaPath.startsWith(`${o.schemaPath}/`),
      ),
  );
}

/** One ajv error as a setting's JSON pointer and the problem in the project's words. */
function problemOf(
  process: string,
  schema: SettingsSchema,
  e: ErrorObject,
): { pointer: string; problem: string } {
  const params = e.params as Record<string, unknown>;
  const at = (name: unknown): string => `${e.instancePath}/${String(name)}`;
  switch (e.keyword) {
    case 'required':
      return { pointer: at(params['missingProperty']), problem: 'is required' };
    case 'dependentRequired':
      return {
        pointer: at(params['missingProperty']),
        problem: `is required with ${label(schema, at(params['property']))}`,
      };
    case 'additionalProperties':
      return { pointer: at(params['additionalProperty']), problem: `is not a setting of ${process}` };
    case 'anyOf':
    case 'oneOf': {
      const branches = (e.schema as { required?: string[] }[]).map((b) => b.required ?? []);
      if (e.instancePath === '' && branches.every((r) => r.length === 1)) {
        const names = branches.map((r) => label(schema, at(r[0])));
        return { pointer: at(branches[0]![0]), problem: `or ${names.slice(1).join(' or ')} is required` };
      }
      break;
    }
  }
  const own = e.parentSchema as SettingSchema | undefined;
  const top = schema.properties[topLevel(e.instancePath)];
  const words = own?.['x-expects'] ?? top?.['x-expects'] ?? (own ? expected(own) : 'valid');
  return { pointer: e.instancePath, problem: `must be ${words}` };
}

/**
 * Turns ajv's errors for a settings object into one `ERR_CONFIG_INVALID` naming the first bad setting in
 * the schema's order by JSON pointer, in the project's words (never ajv's text, never the value).
 */
export function settingsError(
  process: string,
  schema: SettingsSchema,
  errors: readonly ErrorObject[],
  origins: SettingOrigins,
): PasserelleError {
  const order = Object.keys(schema.properties);
  const rank = (pointer: string): number => {
    const i = order.indexOf(topLevel(pointer));
    return i < 0 ? order.length : i;
  };
  const problems = ownErrors(errors).map((e) => problemOf(process, schema, e));
  const [first] = problems.sort((a, b) => rank(a.pointer) - rank(b.pointer));
  const { pointer, problem } = first ?? { pointer: '', problem: 'is not valid' };
  return invalidSetting(process, schema, pointer, problem, origins);
}

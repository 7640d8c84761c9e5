import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { PasserelleError } from '@passerelle/errors';
import { fromEnvironment } from './environment.js';
import { invalidSetting, settingsError } from './setting-error.js';
import { SETTINGS_ANNOTATIONS, type SettingsSchema } from './settings-schema.js';

/** Where {@link Settings.read} takes the values from. */
export interface SettingsSources {
  /** The environment; a variable named by a setting's `x-env` wins over the file. Empty means unset. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The settings file's contents (a JSON object), when the process has one. */
  file?: unknown;
}

/** A process's settings: its schema, compiled once, and the reader that validates against it. */
export interface Settings<T> {
  /** The process's name, which error messages start with. */
  readonly process: string;
  readonly schema: SettingsSchema;
  /**
   * The settings from the file and the environment, validated, with the schema's defaults applied; the
   * first bad setting is `ERR_CONFIG_INVALID` naming its JSON pointer and environment variable.
   */
  read(sources: SettingsSources): T;
  /**
   * `ERR_CONFIG_INVALID` for a check the schema cannot make (a file that cannot be read, a key that does
   * not match its certificate), worded and detailed like the schema's own.
   */
  invalid(pointer: string, problem: string, cause?: unknown): PasserelleError;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Compiles a process's settings schema (draft 2020-12, ajv strict mode, defaults applied) once, as
 * fastify compiles its own options' schema, and gives the reader that validates at start.
 *
 * @example
 * ```ts
 * const auditorSettings = defineSettings<AuditorSettings>('auditor', AUDITOR_SETTINGS_SCHEMA);
 * const settings = auditorSettings.read({ env: process.env });
 * ```
 */
export function defineSettings<T>(process: string, schema: SettingsSchema): Settings<T> {
  // One compiler per schema: schemas are few, compiled at start, and never share an $id by accident.
  // strictRequired off: an anyOf branch names settings that the root's properties define.
  const ajv = new Ajv2020({
    strict: true,
    strictRequired: false,
    allErrors: true,
    useDefaults: true,
    verbose: true,
  });
  ajv.addVocabulary([...SETTINGS_ANNOTATIONS]);
  const validate: ValidateFunction = ajv.compile(schema);
  return {
    process,
    schema,
    read({ env = {}, file = {} }) {
      if (!isObject(file))
        throw new PasserelleError('ERR_CONFIG_INVALID', `${process} settings file must hold a JSON object`, {
          details: { pointer: '' },
        });
      const fromFile = new Set<string>();
      const values: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(structuredClone(file))) {
        // a list setting may be given as one string in the file
        values[key] = schema.properties[key]?.type === 'array' && typeof value === 'string' ? [value] : value;
        fromFile.add(key);
      }
      for (const [key, property] of Object.entries(schema.properties)) {
        const raw = property['x-env'] ? env[property['x-env']] : undefined;
        if (raw === undefined || raw === '') continue;
        values[key] = fromEnvironment(raw, property);
        fromFile.delete(key);
      }
      if (!validate(values)) throw settingsError(process, schema, validate.errors ?? [], { fromFile });
      return values as T;
    },
    invalid(pointer, problem, cause) {
      return invalidSetting(process, schema, pointer, problem, undefined, cause);
    },
  };
}

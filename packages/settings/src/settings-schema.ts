/** The JSON Schema dialect every settings schema declares. */
export const SETTINGS_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/**
 * One setting: a JSON Schema 2020-12 subschema with a `description`, and the project's annotations
 * (declared as an ajv vocabulary, so strict mode accepts them and validation ignores them):
 * `x-env`, the environment variable that sets it (it wins over the file); `x-default`, the default in
 * words when it is computed at start from other settings (a JSON `default` is applied by ajv);
 * `x-expects`, what the value must be, in words, for the error message of a `pattern` or a `oneOf`.
 */
export interface SettingSchema {
  readonly description: string;
  readonly type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  readonly default?: unknown;
  readonly 'x-env'?: string;
  readonly 'x-default'?: string;
  readonly 'x-expects'?: string;
  readonly properties?: Readonly<Record<string, SettingSchema>>;
  readonly [keyword: string]: unknown;
}

/**
 * A process's settings schema: one object, every setting a property, unknown keys refused
 * (`additionalProperties: false`), cross-setting rules as `dependentRequired` or `anyOf` of `required`.
 */
export interface SettingsSchema {
  readonly $schema: typeof SETTINGS_DIALECT;
  readonly $id: string;
  readonly title: string;
  readonly description: string;
  readonly type: 'object';
  readonly properties: Readonly<Record<string, SettingSchema>>;
  readonly required?: readonly string[];
  readonly dependentRequired?: Readonly<Record<string, readonly string[]>>;
  readonly anyOf?: readonly { readonly required: readonly string[] }[];
  readonly additionalProperties: false;
}

/** The annotation keywords of {@link SettingSchema}, for the ajv vocabulary. */
export const SETTINGS_ANNOTATIONS = ['x-env', 'x-default', 'x-expects'] as const;

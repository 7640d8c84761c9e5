import type { SettingSchema } from './settings-schema.js';

/**
 * A setting's value as an environment variable gives it, in the type its schema declares: numbers and
 * booleans parsed when they parse (otherwise the text is kept, for the schema to refuse it by name), lists
 * comma-separated.
 */
export function fromEnvironment(raw: string, schema: SettingSchema): unknown {
  switch (schema.type) {
    case 'integer':
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'array':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

import { PasserelleError } from '@passerelle/errors';
import type { SettingSchema, SettingsSchema } from './settings-schema.js';

/**
 * The markers between which a README holds the generated settings table of a schema, named by its
 * `title` (a README may hold several).
 */
export function settingsTableMarkers(schema: SettingsSchema): { begin: string; end: string } {
  return { begin: `<!-- settings:begin ${schema.title} -->`, end: `<!-- settings:end ${schema.title} -->` };
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function defaultOf(s: SettingSchema, required: boolean): string {
  if (required) return 'required';
  if (s['x-default'] !== undefined) return s['x-default'];
  if (s.default === undefined) return '—';
  const value = s.default;
  const text = Array.isArray(value)
    ? value.join(',')
    : typeof value === 'string'
      ? value
      : JSON.stringify(value);
  return `\`${text}\``;
}

function rows(
  properties: Readonly<Record<string, SettingSchema>>,
  required: readonly string[],
  prefix: string,
): string[] {
  return Object.entries(properties).flatMap(([key, s]) => {
    const name = `${prefix}${key}`;
    const row = `| \`${name}\` | ${s['x-env'] ? `\`${s['x-env']}\`` : ''} | ${cell(defaultOf(s, required.includes(key)))} | ${cell(s.description)} |`;
    return s.type === 'object' && s.properties
      ? [row, ...rows(s.properties, (s['required'] as string[] | undefined) ?? [], `${name}.`)]
      : [row];
  });
}

/**
 * The Markdown table of a settings schema: each setting (nested ones as `a.b`), its environment variable,
 * its default (or `required`) and its description.
 *
 * @example
 * ```ts
 * console.log(renderSettingsTable(AUDITOR_SETTINGS_SCHEMA));
 * ```
 */
export function renderSettingsTable(schema: SettingsSchema): string {
  return [
    '| setting | environment | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows(schema.properties, schema.required ?? [], ''),
  ].join('\n');
}

/**
 * `markdown` with the text between the schema's {@link settingsTableMarkers} replaced by its table;
 * `ERR_CONFIG_INVALID` when the markers are missing (`where` names the file).
 *
 * @example
 * ```ts
 * writeFileSync(path, replaceSettingsTable(readFileSync(path, 'utf8'), AUDITOR_SETTINGS_SCHEMA, path));
 * ```
 */
export function replaceSettingsTable(markdown: string, schema: SettingsSchema, where: string): string {
  const { begin, end } = settingsTableMarkers(schema);
  const table = renderSettingsTable(schema);
  const from = markdown.indexOf(begin);
  const to = markdown.indexOf(end, from);
  if (from < 0 || to < 0) {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${where} has no ${begin} … ${end} markers`, {
      details: { file: where },
    });
  }
  return `${markdown.slice(0, from + begin.length)}\n${table}\n${markdown.slice(to)}`;
}

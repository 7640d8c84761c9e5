import { readFile } from 'node:fs/promises';
import { PasserelleError } from '@passerelle/errors';

/**
 * A settings file's contents: a JSON object, else `ERR_CONFIG_INVALID` naming the variable that points to
 * it (`setting`) and the path, never the contents.
 *
 * @example
 * ```ts
 * const file = env.PASSERELLE_CONFIG ? await readSettingsFile('commune', 'PASSERELLE_CONFIG', env.PASSERELLE_CONFIG) : {};
 * ```
 */
export async function readSettingsFile(process: string, setting: string, path: string): Promise<unknown> {
  const bad = (problem: string, cause?: unknown): PasserelleError =>
    new PasserelleError('ERR_CONFIG_INVALID', `${process} setting ${setting} (${path}) ${problem}`, {
      details: { setting },
      ...(cause !== undefined ? { cause } : {}),
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (cause) {
    throw bad('cannot be read as JSON', cause);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw bad('must hold a JSON object');
  return parsed;
}

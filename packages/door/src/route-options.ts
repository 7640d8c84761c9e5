import type { DoorScope } from './scopes.js';

/**
 * The options of one family of door routes: all need the same scope and stand under the same OpenAPI tag,
 * so that each route says only its summary and what it takes and answers.
 *
 * @example
 * ```ts
 * const admin = scopedRoutes('admin', 'access');
 * app.get('/clients/:clientId', admin('A client', { params, response: { 200: clientSchema } }), handler);
 * ```
 */
export function scopedRoutes(
  scope: DoorScope,
  tag: string,
): (summary: string, schema: Record<string, unknown>) => { config: { scope: DoorScope }; schema: object } {
  return (summary, schema) => ({ config: { scope }, schema: { summary, tags: [tag], ...schema } });
}

/** A path parameter's schema. */
interface PathParam {
  type: 'string';
  pattern: string;
}

/**
 * The `params` schema of a route with one path parameter, checked against the pattern of the ids it names.
 *
 * @example
 * ```ts
 * const clientIdParams = pathParams('clientId', CLIENT_ID_PATTERN);
 * ```
 */
export function pathParams<N extends string>(
  name: N,
  pattern: RegExp,
): { type: 'object'; required: [N]; properties: Record<N, PathParam> } {
  const param: PathParam = { type: 'string', pattern: pattern.source };
  return { type: 'object', required: [name], properties: { [name]: param } as Record<N, PathParam> };
}

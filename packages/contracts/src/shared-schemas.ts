import type { SchemaBundle } from './bundle.js';

type Json = Record<string, unknown>;

/**
 * The same schema with each `$ref` written as fastify names a shared schema (`<Name>#`). `nameOf` turns a
 * reference into its name (the bundle's are names already); each name is added to `used`.
 */
export function withSharedRefs(
  node: unknown,
  nameOf: (ref: string) => string = (ref) => ref,
  used: Set<string> = new Set(),
): unknown {
  if (Array.isArray(node)) return node.map((n) => withSharedRefs(n, nameOf, used));
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Json).map(([k, v]) => {
      if (k !== '$ref' || typeof v !== 'string') return [k, withSharedRefs(v, nameOf, used)];
      const name = nameOf(v);
      used.add(name);
      return [k, `${name}#`];
    }),
  );
}

/**
 * The bundle's schemas named in `roots` and every one they reference in turn, each with its references
 * written as fastify names shared schemas: the components an HTTP API adds so that its routes' bodies are
 * the exchange's own schemas.
 */
export function sharedSchemas(bundle: SchemaBundle, roots: Iterable<string>): Map<string, Json> {
  const shared = new Map<string, Json>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (shared.has(name)) continue;
    const schema = bundle.schemas[name];
    if (!schema) throw new Error(`a schema names ${name}, which the contracts lack`);
    const refs = new Set<string>();
    shared.set(name, withSharedRefs(schema, undefined, refs) as Json);
    pending.push(...refs);
  }
  return shared;
}

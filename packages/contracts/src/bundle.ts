import type { Contracts } from './contracts.js';

/** Message schemas and their shared definitions gathered into one namespace, refs rewritten to it. */
export interface SchemaBundle {
  /** Shared definitions and one entry per message type (keyed by the schema's `title`). */
  schemas: Record<string, Record<string, unknown>>;
  /** Message type → key of its payload schema in `schemas`, for the latest version. */
  payloads: Record<string, string>;
}

/** Options of {@link bundleSchemas}. */
export interface BundleOptions {
  /**
   * Keep only what shapes a TypeScript type: drop the conditional keywords (`if`/`then`/`else`, `not`,
   * `allOf`, which the schemas use only for conditions) and the siblings of `$ref`, so a generator emits one
   * type per definition instead of numbered copies.
   */
  shapeOnly?: boolean;
}

const CONDITIONAL_KEYWORDS = new Set(['if', 'then', 'else', 'not', 'allOf']);

function rewriteRefs(node: unknown, refPrefix: string, shapeOnly: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, refPrefix, shapeOnly));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  const hasRef = Object.hasOwn(node, '$ref');
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === '$id') continue;
    if (shapeOnly && (CONDITIONAL_KEYWORDS.has(key) || (hasRef && key !== '$ref'))) continue;
    if (key === '$ref' && typeof value === 'string') {
      // Every ref of the schemas points at a shared definition: `...#/$defs/<Name>`.
      const match = /#\/\$defs\/([A-Za-z][A-Za-z0-9]*)$/.exec(value);
      if (!match) throw new Error(`cannot bundle $ref "${value}": only refs to #/$defs/<Name> are supported`);
      out[key] = `${refPrefix}${match[1]}`;
      continue;
    }
    out[key] = rewriteRefs(value, refPrefix, shapeOnly);
  }
  return out;
}

/**
 * Gathers the latest schema of every message type and the shared definitions into one flat namespace,
 * rewriting `$ref`s to `<refPrefix><Name>` — what AsyncAPI (`#/components/schemas/`) and the TypeScript
 * generator (`#/$defs/`) need, since neither should fetch the schemas' `$id` URLs.
 *
 * @example
 * ```ts
 * const { schemas, payloads } = bundleSchemas(contracts, '#/components/schemas/');
 * ```
 */
export function bundleSchemas(
  contracts: Contracts,
  refPrefix: string,
  options: BundleOptions = {},
): SchemaBundle {
  const schemas: Record<string, Record<string, unknown>> = {};
  const add = (name: string, schema: unknown, from: string) => {
    if (Object.hasOwn(schemas, name)) throw new Error(`schema name "${name}" (${from}) is used twice`);
    schemas[name] = rewriteRefs(schema, refPrefix, options.shapeOnly ?? false) as Record<string, unknown>;
  };
  for (const defs of contracts.definitions()) {
    for (const [name, def] of Object.entries((defs.schema.$defs ?? {}) as Record<string, unknown>)) {
      add(name, def, defs.file);
    }
  }
  const payloads: Record<string, string> = {};
  for (const info of contracts.types()) {
    const loaded = contracts.schemas().find((s) => s.type === info.type && s.version === info.latestVersion);
    if (!loaded) continue;
    const title = typeof loaded.schema.title === 'string' ? loaded.schema.title : info.type;
    add(title, loaded.schema, loaded.file);
    payloads[info.type] = title;
  }
  return { schemas, payloads };
}

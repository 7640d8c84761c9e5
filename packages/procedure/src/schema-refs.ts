import type { JsonSchema } from './decider.js';

/** Where the message schemas and their shared definitions are named (their `$id`s). */
export const SCHEMAS_BASE = 'https://passerelle.invalid/schemas/';

/**
 * A reference to a shared definition (`schemas/defs/common.v1.json`), for an action's input schema.
 *
 * @example
 * ```ts
 * definitionRef('IsoDate'); // { $ref: 'https://passerelle.invalid/schemas/defs/common.v1.json#/$defs/IsoDate' }
 * ```
 */
export function definitionRef(name: string): JsonSchema {
  return { $ref: `${SCHEMAS_BASE}defs/common.v1.json#/$defs/${name}` };
}

/**
 * A reference to a part of a message schema (version 1), so that an action's input takes its values from
 * the message it becomes (a refusal reason, a permit kind).
 *
 * @example
 * ```ts
 * messageSchemaRef('stay-ended', '/properties/reason');
 * ```
 */
export function messageSchemaRef(type: string, pointer: string): JsonSchema {
  return { $ref: `${SCHEMAS_BASE}${type}.v1.json#${pointer}` };
}

import type { FastifyReply } from 'fastify';

/** The JSON schema of an object: what {@link withSecretSchema} extends. */
interface ObjectSchema {
  required: readonly string[];
  properties: Record<string, unknown>;
}

/**
 * The 201 answer of a creation whose secret is shown this once: the created item and its `secret`.
 *
 * @example
 * ```ts
 * response: { 201: withSecretSchema(clientSchema, 'The client, and its secret: shown this once.') }
 * ```
 */
export function withSecretSchema(item: ObjectSchema, description: string): object {
  return {
    description,
    type: 'object',
    required: [...item.required, 'secret'],
    properties: { ...item.properties, secret: { type: 'string' } },
  };
}

/** Answers a creation: 201, where the item now is, and the item with its secret (never stored in the clear). */
export function createdWithSecret(
  reply: FastifyReply,
  location: string,
  item: object,
  secret: string,
): FastifyReply {
  return reply
    .code(201)
    .header('location', location)
    .send({ ...item, secret });
}

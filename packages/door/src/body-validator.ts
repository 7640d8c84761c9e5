import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

/** What compiles a route's other parts (path parameters, query): a schema compiler set up like the body's. */
export interface PartCompiler {
  compile(schema: object): (data: unknown) => boolean;
}

/**
 * A route's `validatorCompiler` whose body is checked by `checkBody` (the error to answer with, or undefined
 * when the body is valid) and whose other parts are compiled by `parts`: a body checked against a
 * contract's schema, with its own typed error, not fastify's.
 */
export function bodyValidatorCompiler(
  parts: PartCompiler,
  checkBody: (data: unknown) => Error | undefined,
): FastifySchemaCompiler<FastifySchema> {
  return ({ schema, httpPart }) => {
    if (httpPart !== 'body') return parts.compile(schema);
    return (data: unknown) => {
      const error = checkBody(data);
      return error ? { error } : true;
    };
  };
}

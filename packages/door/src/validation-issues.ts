import { PasserelleError } from '@passerelle/errors';
import { type InputIssue, type InputLocation, inputIssue } from './problem.js';

/** The part of an ajv error a door reads (fastify's `error.validation` items). */
export interface SchemaErrorLike {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
}

/** Fastify's `validationContext` → the guide's `in`. */
const LOCATIONS: Record<string, InputLocation> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

const escapeToken = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapeToken = (token: string): string => token.replace(/~1/g, '/').replace(/~0/g, '~');

const list = (values: unknown): string =>
  Array.isArray(values) ? values.map((v) => JSON.stringify(v)).join(', ') : '';

type Params = Record<string, unknown>;

/** The sentence of a size limit: at least or at most `limit` of `unit`. */
const bound =
  (side: 'least' | 'most', unit: string) =>
  (p: Params): string =>
    `must have at ${side} ${String(p['limit'])} ${unit}`;
const comparison = (p: Params): string => `must be ${String(p['comparison'])} ${String(p['limit'])}`;
const dependency = (p: Params): string => `requires ${String(p['missingProperty'])} as well`;
const noForm = (): string => 'does not match any of the allowed forms';

/**
 * What each keyword asks, in a sentence of ours: the validator's own text is never shown (it varies with
 * the library's version and may quote the input). Only the schema's limits appear, never the request's
 * values.
 */
const RULES: Record<string, (p: Params) => string> = {
  required: () => 'is required',
  additionalProperties: () => 'is not an input of this operation',
  type: (p) => `must be of type ${String(p['type'])}`,
  enum: (p) => `must be one of: ${list(p['allowedValues'])}`,
  const: (p) => `must be ${JSON.stringify(p['allowedValue'])}`,
  format: (p) => `must be a valid ${String(p['format'])}`,
  pattern: () => 'does not have the expected form',
  minLength: bound('least', 'characters'),
  maxLength: bound('most', 'characters'),
  minimum: comparison,
  exclusiveMinimum: comparison,
  maximum: comparison,
  exclusiveMaximum: comparison,
  multipleOf: (p) => `must be a multiple of ${String(p['multipleOf'])}`,
  minItems: bound('least', 'items'),
  maxItems: bound('most', 'items'),
  uniqueItems: () => 'must not repeat an item',
  minProperties: bound('least', 'members'),
  maxProperties: bound('most', 'members'),
  dependentRequired: dependency,
  dependencies: dependency,
  oneOf: noForm,
  anyOf: noForm,
  not: () => 'has a form that is not allowed',
};

/** The sentence for an error's keyword; a keyword without one of ours is "not valid". */
function rule(error: SchemaErrorLike): string {
  const sentence = Object.hasOwn(RULES, error.keyword) ? RULES[error.keyword] : undefined;
  return sentence ? sentence(error.params) : 'is not valid';
}

/** The JSON pointer of the input an error is about (a missing or unknown member is named itself). */
function pointerOf(error: SchemaErrorLike): string {
  const member =
    error.keyword === 'required' || error.keyword === 'dependentRequired' || error.keyword === 'dependencies'
      ? error.params['missingProperty']
      : error.keyword === 'additionalProperties'
        ? error.params['additionalProperty']
        : undefined;
  return typeof member === 'string' ? `${error.instancePath}/${escapeToken(member)}` : error.instancePath;
}

/**
 * Turns schema errors of one part of a request into the guide's issues: `in` from the part, `name` the
 * JSON pointer of the input in a body or the parameter's name elsewhere, and a sentence of ours. An unknown
 * member is an `unknownInput` issue; a failed `oneOf`/`anyOf` is one issue, not one per branch tried.
 *
 * @example
 * ```ts
 * validationIssues(error.validation, error.validationContext ?? 'body');
 * // [{ type: '…:schemaViolation', in: 'body', name: '/decision/outcome',
 * //    detail: '/decision/outcome must be one of: "granted", "refused".', … }]
 * ```
 */
export function validationIssues(errors: readonly SchemaErrorLike[], context: string): InputIssue[] {
  const where = LOCATIONS[context] ?? 'body';
  // errors found inside the branches of a failed oneOf/anyOf are that one failure, reported once
  const alternatives = errors
    .filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
    .map((e) => e.schemaPath);
  const shown = errors.filter(
    (e) =>
      e.keyword !== 'if' &&
      !alternatives.some((path) => e.schemaPath !== path && e.schemaPath.startsWith(`${path}/`)),
  );
  const issues: InputIssue[] = [];
  const seen = new Set<string>();
  for (const error of shown) {
    const pointer = pointerOf(error);
    let name: string;
    let label: string;
    if (where === 'body') {
      name = pointer;
      label = pointer === '' ? 'The body' : pointer;
    } else {
      // a parameter: its name, then the place inside it when the parameter is an array or an object
      const [first = '', ...rest] = pointer.split('/').slice(1);
      name = unescapeToken(first);
      label = pointer === '' ? `The ${where === 'path' ? 'path' : where} parameters` : name;
      if (rest.length > 0) label = `${name}/${rest.join('/')}`;
    }
    const detail = `${label} ${rule(error)}.`;
    const key = `${name}\u0000${detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(
      inputIssue(
        error.keyword === 'additionalProperties' ? 'unknownInput' : 'schemaViolation',
        where,
        name,
        detail,
      ),
    );
  }
  return issues;
}

/**
 * A request body that fails its message schema: `ERR_SCHEMA_INVALID`, whose details name each bad input by
 * its JSON pointer (never its value) beside `details` (the action or message type).
 */
export function schemaInvalidBody(
  errors: readonly SchemaErrorLike[],
  details: Record<string, unknown>,
): PasserelleError {
  const issues = validationIssues(errors, 'body').map((issue) => ({
    in: issue.in,
    name: issue.name,
    detail: issue.detail,
    type: issue.type.slice(issue.type.lastIndexOf(':') + 1),
  }));
  return new PasserelleError('ERR_SCHEMA_INVALID', 'The input message is incorrect.', {
    details: { ...details, issues },
  });
}

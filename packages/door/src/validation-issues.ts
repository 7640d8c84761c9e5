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

/**
 * What a keyword asks, in a sentence of ours: the validator's own text is never shown (it varies with the
 * library's version and may quote the input). Only the schema's limits appear, never the request's values.
 */
function rule(error: SchemaErrorLike): string {
  const p = error.params;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not an input of this operation';
    case 'type':
      return `must be of type ${String(p['type'])}`;
    case 'enum':
      return `must be one of: ${list(p['allowedValues'])}`;
    case 'const':
      return `must be ${JSON.stringify(p['allowedValue'])}`;
    case 'format':
      return `must be a valid ${String(p['format'])}`;
    case 'pattern':
      return 'does not have the expected form';
    case 'minLength':
      return `must have at least ${String(p['limit'])} characters`;
    case 'maxLength':
      return `must have at most ${String(p['limit'])} characters`;
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum':
      return `must be ${String(p['comparison'])} ${String(p['limit'])}`;
    case 'multipleOf':
      return `must be a multiple of ${String(p['multipleOf'])}`;
    case 'minItems':
      return `must have at least ${String(p['limit'])} items`;
    case 'maxItems':
      return `must have at most ${String(p['limit'])} items`;
    case 'uniqueItems':
      return 'must not repeat an item';
    case 'minProperties':
      return `must have at least ${String(p['limit'])} members`;
    case 'maxProperties':
      return `must have at most ${String(p['limit'])} members`;
    case 'dependentRequired':
    case 'dependencies':
      return `requires ${String(p['missingProperty'])} as well`;
    case 'oneOf':
    case 'anyOf':
      return 'does not match any of the allowed forms';
    case 'not':
      return 'has a form that is not allowed';
    default:
      return 'is not valid';
  }
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

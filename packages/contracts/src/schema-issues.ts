import type { ValidateFunction } from 'ajv/dist/2020.js';

/** One schema error as ajv reports it: where in the payload, which keyword, what is wrong. */
export interface SchemaIssue {
  /** JSON pointer into the payload (`''` for the root). */
  path: string;
  keyword: string;
  message: string;
}

/** How many issues an error carries at most (the total is given beside them). */
const MAX_REPORTED_ISSUES = 20;

/**
 * What an error says of the issues ajv found: the first ones as {@link SchemaIssue}s, and a sentence tail
 * naming the first and counting the rest (`: /path message (and 2 more)`). Only locations, keywords and
 * ajv's fixed sentences: the values checked (personal data) never leave here.
 */
export function describeSchemaIssues(all: NonNullable<ValidateFunction['errors']>): {
  errors: SchemaIssue[];
  summary: string;
} {
  const errors = all.slice(0, MAX_REPORTED_ISSUES).map((e) => ({
    path: e.instancePath,
    keyword: e.keyword,
    message: e.message ?? e.keyword,
  }));
  const first = errors[0];
  const summary =
    (first ? `: ${first.path || '/'} ${first.message}` : '') +
    (all.length > 1 ? ` (and ${all.length - 1} more)` : '');
  return { errors, summary };
}

import { randomUUID } from 'node:crypto';
import { ERROR_CATALOGUE, type ErrorCode, isPasserelleError } from '@passerelle/errors';
import {
  type InputIssue,
  type InputLocation,
  type Problem,
  belgifProblem,
  inputIssue,
  passerelleProblemTitle,
  passerelleProblemType,
} from './problem.js';
import { PROBLEM_MAPPING } from './problem-mapping.js';
import { type SchemaErrorLike, validationIssues } from './validation-issues.js';

/** A problem and the headers that go with it. */
export interface ProblemAnswer {
  problem: Problem;
  headers: Record<string, string>;
}

/** What {@link toProblem} needs of the request. */
export interface ProblemContext {
  /** The realm named in `WWW-Authenticate` (the door's name). */
  realm: string;
  /** The body limit of the route, reported as `limit` when a body is too large. */
  bodyLimit?: number;
}

const LOCATIONS = new Set<InputLocation>(['body', 'path', 'query', 'header']);

/**
 * The issues a catalogue error names in its details: `{ issues: [...] }` or one `{ in, name }`, each with an
 * optional `detail` and `type` (`schemaViolation`, `unknownInput`, `referencedResourceNotFound`; else
 * `invalidInput`).
 */
function issuesOf(details: Readonly<Record<string, unknown>> | undefined, detail: string): InputIssue[] {
  if (!details) return [];
  const raw = Array.isArray(details['issues']) ? (details['issues'] as unknown[]) : [details];
  const issues: InputIssue[] = [];
  for (const item of raw) {
    const i = item as { in?: unknown; name?: unknown; detail?: unknown; type?: unknown };
    if (typeof i.in !== 'string' || !LOCATIONS.has(i.in as InputLocation) || typeof i.name !== 'string')
      continue;
    const type =
      i.type === 'schemaViolation' || i.type === 'unknownInput' || i.type === 'referencedResourceNotFound'
        ? i.type
        : 'invalidInput';
    issues.push(
      inputIssue(type, i.in as InputLocation, i.name, typeof i.detail === 'string' ? i.detail : detail),
    );
  }
  return issues;
}

const quoted = (value: string): string => `"${value.replace(/["\\]/g, '')}"`;

/** The `WWW-Authenticate` challenge of an access refusal (RFC 6750 §3), none for other codes. */
function challenge(code: ErrorCode, realm: string, details: Readonly<Record<string, unknown>> | undefined) {
  const base = `Bearer realm=${quoted(realm)}`;
  switch (code) {
    case 'ERR_ACCESS_TOKEN_MISSING':
      return base;
    case 'ERR_ACCESS_TOKEN_INVALID':
      return `${base}, error="invalid_token", error_description="The access token is invalid"`;
    case 'ERR_ACCESS_TOKEN_EXPIRED':
      return `${base}, error="invalid_token", error_description="The access token expired"`;
    case 'ERR_SCOPE_MISSING': {
      const scopes = Array.isArray(details?.['requiredScopes'])
        ? (details['requiredScopes'] as string[])
        : [];
      return `${base}, error="insufficient_scope", scope=${quoted(scopes.join(' '))}`;
    }
    case 'ERR_CLIENT_AUTHENTICATION_FAILED':
      return `Basic realm=${quoted(realm)}`;
    default:
      return undefined;
  }
}

/** A problem for an error of the catalogue. */
function catalogueProblem(
  code: ErrorCode,
  message: string,
  details: Readonly<Record<string, unknown>> | undefined,
  context: ProblemContext,
): ProblemAnswer | undefined {
  const mapping = PROBLEM_MAPPING[code];
  if (!mapping) return undefined;
  const headers: Record<string, string> = {};
  const auth = challenge(code, context.realm, details);
  if (auth) headers['www-authenticate'] = auth;
  const retryable = ERROR_CATALOGUE[code].retryable;
  const members: Partial<Problem> = { code };
  if (retryable) members.retryable = true;
  // a 5xx says nothing of its cause; a 4xx explains itself (catalogue messages carry no personal data)
  if (mapping.status < 500) members.detail = message;
  if (Array.isArray(details?.['requiredScopes']))
    members.requiredScopes = details['requiredScopes'] as string[];
  for (const member of ['limit', 'retryAfterSec'] as const) {
    const value = details?.[member];
    if (typeof value === 'number') members[member] = value;
  }
  if (typeof members.retryAfterSec === 'number') headers['retry-after'] = String(members.retryAfterSec);
  if (typeof details?.['oauthError'] === 'string') {
    members.error = details['oauthError'];
    members.error_description = message;
  }
  const issues = issuesOf(details, message);
  if (issues.length > 0) members.issues = issues;
  const problem = mapping.belgif
    ? belgifProblem(mapping.belgif, { ...members, status: mapping.status })
    : {
        type: passerelleProblemType(code),
        title: passerelleProblemTitle(code),
        status: mapping.status,
        ...members,
      };
  return { problem, headers };
}

/** Fastify's own refusals (parsing, media type, size) as problems, with fixed sentences. */
function frameworkProblem(
  err: { code?: unknown; statusCode?: unknown },
  context: ProblemContext,
): Problem | undefined {
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status < 400 || status >= 500) return undefined;
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return belgifProblem('payloadTooLarge', {
        detail: 'The request body is larger than this operation accepts.',
        ...(context.bodyLimit ? { limit: context.bodyLimit } : {}),
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        type: passerelleProblemType('ERR_MEDIA_TYPE_NOT_ALLOWED'),
        title: passerelleProblemTitle('ERR_MEDIA_TYPE_NOT_ALLOWED'),
        status: 415,
        detail: 'This operation does not accept a body of this media type.',
        code: 'ERR_MEDIA_TYPE_NOT_ALLOWED',
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return belgifProblem('badRequest', {
        detail: 'The input message is incorrect.',
        issues: [
          inputIssue('schemaViolation', 'body', '', 'The body is empty, but its media type says JSON.'),
        ],
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return belgifProblem('badRequest', {
        detail: 'The input message is incorrect.',
        issues: [inputIssue('schemaViolation', 'body', '', 'The body is not valid JSON.')],
      });
    default:
      if (status === 404) return belgifProblem('resourceNotFound', { detail: 'No such resource.' });
      return belgifProblem('badRequest', { status, detail: 'The request is malformed.' });
  }
}

/**
 * The problem a door answers for any error thrown while handling a request:
 * - fastify's schema validation: `badRequest` with one issue per bad input (JSON pointers, our sentences);
 * - a catalogue error the door maps (`PROBLEM_MAPPING`): the guide's type where one means the same, the
 *   code's own `urn:problem-type:passerelle:<type>` otherwise, with `code` and (when true) `retryable`;
 * - fastify's own refusals (unreadable JSON, media type, size): the guide's types, fixed sentences;
 * - anything else: `internalServerError`, with nothing of the error in it.
 * Every problem has a fresh `instance` (`urn:uuid:…`) to find its log line by.
 *
 * @example
 * ```ts
 * const { problem, headers } = toProblem(err, { realm: 'region-bruxelles' });
 * reply.code(problem.status).headers(headers).type(PROBLEM_MEDIA_TYPE).send(JSON.stringify(problem));
 * ```
 */
export function toProblem(err: unknown, context: ProblemContext): ProblemAnswer {
  const instance = `urn:uuid:${randomUUID()}`;
  const e = err as {
    validation?: unknown;
    validationContext?: unknown;
    code?: unknown;
    statusCode?: unknown;
  };
  if (Array.isArray(e.validation)) {
    const issues = validationIssues(
      e.validation as SchemaErrorLike[],
      typeof e.validationContext === 'string' ? e.validationContext : 'body',
    );
    return {
      problem: belgifProblem('badRequest', { detail: 'The input message is incorrect.', instance, issues }),
      headers: {},
    };
  }
  if (isPasserelleError(err)) {
    const answer = catalogueProblem(err.code, err.message, err.details, context);
    if (answer) return { problem: { ...answer.problem, instance }, headers: answer.headers };
  } else if (typeof e.code === 'string' && e.code.startsWith('FST_')) {
    const problem = frameworkProblem(e, context);
    if (problem) return { problem: { ...problem, instance }, headers: {} };
  }
  return { problem: belgifProblem('internalServerError', { instance }), headers: {} };
}

/**
 * RFC 9457 problem details as the Belgif REST guide types them: a stable `type` URN, a `title` per type, the
 * `status`, a `detail` for people and, for bad input, `issues` naming where each bad input is.
 */

/** Where a bad input is, in the guide's words. */
export type InputLocation = 'body' | 'path' | 'query' | 'header';

/**
 * One bad input of a request (the guide's `InputValidationIssue`): for the body, `name` is the JSON pointer
 * of the input (RFC 6901: `/decision/outcome`, `''` for the whole body); for a path, query or header input,
 * its name. The input's value is never echoed: it may be personal data.
 */
export interface InputIssue {
  type: string;
  href?: string;
  title: string;
  detail: string;
  in: InputLocation;
  name: string;
}

/**
 * A problem body. Extension members in use: `issues` (bad request, resource not found), `code` and
 * `retryable` (the Passerelle catalogue's), `requiredScopes` (missing scope), `limit` and `retryAfterSec`
 * (too many requests, payload too large), `error` and `error_description` (the token endpoint's OAuth 2.0
 * error, RFC 6749 §5.2).
 */
export interface Problem {
  type: string;
  href?: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  issues?: InputIssue[];
  code?: string;
  retryable?: boolean;
  requiredScopes?: string[];
  limit?: number;
  retryAfterSec?: number;
  error?: string;
  error_description?: string;
}

/** The media type of every problem a door answers with. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

const GUIDE = 'https://www.belgif.be/specification/rest/api-guide';

/** The guide's standardized problem types (`urn:problem-type:belgif:<name>`), with their status and title. */
export const BELGIF_PROBLEM_TYPES = {
  badRequest: { status: 400, title: 'Bad Request' },
  noAccessToken: { status: 401, title: 'No Access Token' },
  invalidAccessToken: { status: 401, title: 'Invalid Access Token' },
  expiredAccessToken: { status: 401, title: 'Expired Access Token' },
  missingScope: { status: 403, title: 'Missing Scope' },
  missingPermission: { status: 403, title: 'Missing Permission' },
  resourceNotFound: { status: 404, title: 'Resource Not Found' },
  payloadTooLarge: { status: 413, title: 'Payload Too Large' },
  tooManyRequests: { status: 429, title: 'Too Many Requests' },
  tooManyFailedRequests: { status: 429, title: 'Too Many Failed Requests' },
  internalServerError: { status: 500, title: 'Internal Server Error' },
  badGateway: { status: 502, title: 'Bad Gateway' },
  serviceUnavailable: { status: 503, title: 'Service Unavailable' },
} as const;

/** Name of one of the guide's standardized problem types. */
export type BelgifProblemName = keyof typeof BELGIF_PROBLEM_TYPES;

/** The guide's issue types a door reports inside `issues`. */
export const BELGIF_ISSUE_TYPES = {
  schemaViolation: "Input isn't valid with respect to schema",
  unknownInput: 'Unknown input',
  invalidInput: 'Invalid input',
  referencedResourceNotFound: 'Referenced resource not found',
} as const;

/** Name of one of the guide's issue types. */
export type BelgifIssueName = keyof typeof BELGIF_ISSUE_TYPES;

/**
 * A problem of one of the guide's standardized types, with its `href` to the guide's page.
 *
 * @example
 * ```ts
 * belgifProblem('resourceNotFound', { detail: 'No such resource.' });
 * // { type: 'urn:problem-type:belgif:resourceNotFound', href: '…/problems/resourceNotFound.html',
 * //   title: 'Resource Not Found', status: 404, detail: 'No such resource.' }
 * ```
 */
export function belgifProblem(name: BelgifProblemName, members: Partial<Problem> = {}): Problem {
  const { status, title } = BELGIF_PROBLEM_TYPES[name];
  return {
    type: `urn:problem-type:belgif:${name}`,
    href: `${GUIDE}/problems/${name}.html`,
    title,
    status,
    ...members,
  };
}

/**
 * One issue of a bad request, of one of the guide's issue types.
 *
 * @example
 * ```ts
 * inputIssue('schemaViolation', 'body', '/decision/outcome', '/decision/outcome must be one of: granted, refused.');
 * ```
 */
export function inputIssue(
  type: BelgifIssueName,
  where: InputLocation,
  name: string,
  detail: string,
): InputIssue {
  return {
    type: `urn:problem-type:belgif:input-validation:${type}`,
    href: `${GUIDE}/issues/${type}.html`,
    title: BELGIF_ISSUE_TYPES[type],
    detail,
    in: where,
    name,
  };
}

/**
 * The problem type of a Passerelle catalogue code: `urn:problem-type:passerelle:` and the code in
 * lowerCamelCase without its `ERR_` prefix.
 *
 * @example
 * ```ts
 * passerelleProblemType('ERR_OUT_OF_SEQUENCE'); // 'urn:problem-type:passerelle:outOfSequence'
 * ```
 */
export function passerelleProblemType(code: string): string {
  return `urn:problem-type:passerelle:${camelName(code)}`;
}

/** `ERR_OUT_OF_SEQUENCE` → `outOfSequence`. */
function camelName(code: string): string {
  return code
    .replace(/^ERR_/, '')
    .toLowerCase()
    .replace(/_([a-z0-9])/g, (_all, c: string) => c.toUpperCase());
}

/** `ERR_OUT_OF_SEQUENCE` → `Out of sequence`: the title of a Passerelle problem type. */
export function passerelleProblemTitle(code: string): string {
  const words = code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

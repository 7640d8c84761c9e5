import { isPasserelleError } from '@passerelle/errors';
import { HTTP_STATUS_BY_CODE } from './portal-error.js';

/** One failing place of a request: a JSON pointer into the body and what is wrong there (never the value). */
export interface ErrorPathIssue {
  path: string;
  message: string;
}

/** Body of every error answer: a stable catalogue code, a sentence, and for schema errors the failing paths. */
export interface ErrorBody {
  code: string;
  message: string;
  errors?: ErrorPathIssue[];
  /**
   * On a 5xx answer to an application, the dossier it opened: kept, since the application may have
   * reached the administrations; `GET /v1/dossiers/{dossierId}` follows it, and a retry with the same
   * `Idempotency-Key` sends the application again under the same ids.
   */
  dossierId?: string;
}

/** HTTP status for an error thrown while handling a request. */
export function errorStatus(err: unknown): number {
  if (isPasserelleError(err)) return HTTP_STATUS_BY_CODE[err.code] ?? 500;
  const fastifyStatus = (err as { statusCode?: unknown }).statusCode;
  if (typeof fastifyStatus === 'number' && fastifyStatus >= 400 && fastifyStatus < 500) return fastifyStatus;
  return 500;
}

/**
 * The JSON body of an error answer. Catalogue messages are free of personal data by construction; any other
 * error becomes `ERR_REQUEST_INVALID` (framework 4xx) or `ERR_INTERNAL`, with a fixed sentence.
 */
export function errorBody(err: unknown): ErrorBody {
  if (isPasserelleError(err)) {
    const body: ErrorBody = { code: err.code, message: err.message };
    const issues = err.details?.['errors'];
    if (Array.isArray(issues)) {
      body.errors = issues.map((i: { path?: unknown; message?: unknown }) => ({
        path: typeof i.path === 'string' ? i.path : '',
        message: typeof i.message === 'string' ? i.message : 'is invalid',
      }));
    } else if (typeof err.details?.['path'] === 'string') {
      body.errors = [{ path: err.details['path'], message: err.message }];
    }
    return body;
  }
  const status = errorStatus(err);
  if (status < 500) {
    // Framework errors (malformed JSON, unsupported media type) have fixed messages without request data.
    return { code: 'ERR_REQUEST_INVALID', message: `The request is malformed (${status}).` };
  }
  return { code: 'ERR_INTERNAL', message: 'An unexpected failure; see the portal log by request id.' };
}

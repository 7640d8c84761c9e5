import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import type { DoorAccess } from './access.js';
import { DoorError } from './door-error.js';

/** How many token requests one client address may make in a window. */
export interface TokenRateLimit {
  max: number;
  windowMs: number;
}

/** Options of {@link tokenRoute}. */
export interface TokenRouteOptions {
  access: DoorAccess;
  /** Default: 30 requests a minute per address. */
  rateLimit?: TokenRateLimit;
}

/** The path of the token endpoint. */
export const TOKEN_PATH = '/oauth2/token';

const grantInvalid = (oauthError: string, message: string): DoorError =>
  new DoorError('ERR_GRANT_INVALID', message, { details: { oauthError } });

const clientFailed = (): DoorError =>
  new DoorError('ERR_CLIENT_AUTHENTICATION_FAILED', 'The client id or secret is not valid.', {
    details: { oauthError: 'invalid_client' },
  });

/** The client id and secret of HTTP Basic credentials, each form-urlencoded first (RFC 6749 §2.3.1). */
function basicCredentials(header: string | undefined): { id: string; secret: string } {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header ?? '');
  if (!match) throw clientFailed();
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) throw clientFailed();
  try {
    const decode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: decode(decoded.slice(0, colon)), secret: decode(decoded.slice(colon + 1)) };
  } catch {
    throw clientFailed();
  }
}

const tokenSchema = {
  summary: 'Issue an access token (OAuth 2.0 client credentials grant)',
  description:
    'The client authenticates with HTTP Basic (client id and secret). The token is opaque and short-lived; present it as `Authorization: Bearer <token>`.',
  tags: ['access'],
  security: [{ clientSecretBasic: [] }],
  body: {
    content: {
      'application/x-www-form-urlencoded': {
        schema: {
          type: 'object',
          required: ['grant_type'],
          properties: {
            grant_type: { type: 'string', const: 'client_credentials' },
            scope: {
              type: 'string',
              description: 'Space-separated scopes among those of the client (default: all).',
            },
          },
        },
      },
    },
  },
  response: {
    200: {
      description: 'The token (RFC 6749 §5.1).',
      type: 'object',
      required: ['access_token', 'token_type', 'expires_in', 'scope'],
      properties: {
        access_token: { type: 'string' },
        token_type: { type: 'string', const: 'Bearer' },
        expires_in: { type: 'integer', description: 'Seconds until the token expires.' },
        scope: { type: 'string' },
      },
    },
  },
} as const;

/**
 * `POST /oauth2/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4). The calling system
 * authenticates with HTTP Basic; the form body has `grant_type=client_credentials` and an optional `scope`.
 * Refusals are problems that also carry the OAuth `error` member (`invalid_client` with 401,
 * `invalid_request`, `unsupported_grant_type`, `invalid_scope` with 400). Limited per client address with
 * `@fastify/rate-limit` (429 `tooManyRequests` with `Retry-After`). Public: the credentials are its input.
 *
 * @example
 * ```ts
 * await app.register(tokenRoute, { access, rateLimit: { max: 30, windowMs: 60_000 } });
 * ```
 */
export const tokenRoute: FastifyPluginAsync<TokenRouteOptions> = async (app, options) => {
  const limit = options.rateLimit ?? { max: 30, windowMs: 60_000 };
  if (
    !Number.isInteger(limit.max) ||
    limit.max < 1 ||
    !Number.isInteger(limit.windowMs) ||
    limit.windowMs < 1_000
  ) {
    throw new DoorError(
      'ERR_CONFIG_INVALID',
      'door setting tokenRateLimit needs max ≥ 1 and windowMs ≥ 1000',
      {
        details: { setting: 'tokenRateLimit' },
      },
    );
  }
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => {
      const retryAfterSec = Math.max(1, Math.ceil(context.ttl / 1000));
      return new DoorError(
        'ERR_RATE_LIMITED',
        `Too many token requests from this address: try again in ${retryAfterSec} seconds.`,
        {
          details: { limit: context.max, retryAfterSec },
        },
      );
    },
  });
  // A form of a few fields: each once (RFC 6749 §3.2), as a plain object.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_request, body, done) => {
      const form: Record<string, string> = {};
      for (const [name, value] of new URLSearchParams(body as string)) {
        if (Object.hasOwn(form, name)) {
          done(grantInvalid('invalid_request', `The form has ${name} more than once.`), undefined);
          return;
        }
        form[name] = value;
      }
      done(null, form);
    },
  );
  app.post(
    TOKEN_PATH,
    {
      config: { public: true, rateLimit: { max: limit.max, timeWindow: limit.windowMs } },
      schema: tokenSchema,
      // documented above, checked below: refusals here are OAuth errors, not schema issues
      validatorCompiler: () => () => true,
    },
    async (request, reply) => {
      const form = (request.body ?? {}) as Record<string, string>;
      if (form['client_secret'] !== undefined) {
        throw grantInvalid(
          'invalid_request',
          'The client authenticates with HTTP Basic only, not in the form.',
        );
      }
      const grant = form['grant_type'];
      if (grant === undefined) throw grantInvalid('invalid_request', 'grant_type is required.');
      if (grant !== 'client_credentials') {
        throw grantInvalid('unsupported_grant_type', 'Only grant_type=client_credentials is supported.');
      }
      const { id, secret } = basicCredentials(request.headers.authorization);
      const issued = await options.access.issueToken(id, secret, form['scope']);
      request.log.info({ client: id, scopes: issued.scopes }, 'access token issued');
      void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return {
        access_token: issued.token,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        scope: issued.scopes.join(' '),
      };
    },
  );
};

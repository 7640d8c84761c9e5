import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { PasserelleError } from '@passerelle/errors';
import type { Logger } from '@passerelle/exchange';
import { ViewerAuth, bearerToken } from './auth.js';
import { HttpProblem } from './http-problem.js';
import { loginPage } from './pages.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `true` on what anyone may fetch without the token (the stylesheet, the script, the login form's POST). */
    public?: boolean;
  }
}

/** How many wrong credentials one client address may present in a window (default 5 a minute). */
export interface CredentialAttempts {
  max: number;
  windowMs: number;
}

/** Options of {@link viewerAccess}. */
export interface ViewerAccessOptions {
  /** The bearer token security officers present. */
  token: string;
  /** The viewer serves HTTPS itself: the session cookie is always `Secure`. */
  tls: boolean;
  attempts?: CredentialAttempts;
  logger: Logger;
}

const HTML = 'text/html; charset=utf-8';
const LOGIN_REQUIRED = { 'www-authenticate': 'Bearer realm="passerelle-audit"' };

const viewerAccessPlugin: FastifyPluginAsync<ViewerAccessOptions> = async (app, options) => {
  const { logger } = options;
  const auth = new ViewerAuth(options.token);
  const attempts = options.attempts ?? { max: 5, windowMs: 60_000 };
  if (
    !Number.isInteger(attempts.max) ||
    attempts.max < 1 ||
    !Number.isInteger(attempts.windowMs) ||
    attempts.windowMs < 1000
  ) {
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      'viewer setting credentialAttempts must allow at least 1 wrong token per window of at least 1000 ms',
      { details: { setting: 'credentialAttempts' } },
    );
  }
  // Manual limiting (one budget per client address, spent by wrong credentials only): the login form and
  // the Authorization header are two doors to the same guess, and a right token must not be slowed down.
  await app.register(rateLimit, { global: false });
  const budget = app.createRateLimit({ max: attempts.max, timeWindow: attempts.windowMs });

  const tooMany = (ttlInSeconds: number): HttpProblem => {
    const seconds = Math.max(1, ttlInSeconds);
    logger.warn({ retryAfter: seconds }, 'viewer credentials refused: too many wrong ones from one address');
    return new HttpProblem(429, `Too many wrong tokens from this address: try again in ${seconds} seconds.`, {
      'retry-after': String(seconds),
    });
  };

  /**
   * Whether `presented` is the token. A wrong one spends one attempt of the client address's budget; once it
   * is spent, every credential from that address, the right one too, is refused with 429 until the window
   * ends, so that the answer tells nothing of a guess.
   */
  const checkCredential = async (request: FastifyRequest, presented: string): Promise<boolean> => {
    if (!auth.tokenMatches(presented)) {
      const spent = await budget(request);
      if (!spent.isAllowed && spent.isExceeded) throw tooMany(spent.ttlInSeconds);
      return false;
    }
    const left = await budget(request, { increment: false });
    if (!left.isAllowed && left.remaining === 0) throw tooMany(left.ttlInSeconds);
    return true;
  };

  const loginRequired = (reply: FastifyReply, message?: string): FastifyReply =>
    reply.code(401).headers(LOGIN_REQUIRED).type(HTML).send(loginPage(message));

  // Every page, and a path no route has, needs the token unless its route says `public: true`.
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public === true) return;
    const presented = bearerToken(request.headers.authorization);
    if (presented !== undefined) {
      if (await checkCredential(request, presented)) return;
      return loginRequired(reply);
    }
    if (auth.hasSession(request.headers.cookie)) return;
    return loginRequired(reply);
  });

  await app.register((scope, _options, registered) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, new URLSearchParams(body as string)),
    );
    scope.post('/login', { config: { public: true }, bodyLimit: 4096 }, async (request, reply) => {
      const form = request.body instanceof URLSearchParams ? request.body : undefined;
      if (await checkCredential(request, form?.get('token') ?? '')) {
        const secure = options.tls || request.headers['x-forwarded-proto'] === 'https';
        return reply
          .code(303)
          .header('location', '/')
          .header('set-cookie', auth.openSession(secure))
          .type(HTML)
          .send('');
      }
      logger.warn({ path: '/login' }, 'viewer login refused');
      return loginRequired(reply, 'The token is not valid.');
    });
    registered();
  });
};

/**
 * The viewer's access control, for the whole app: the token as `Authorization: Bearer` or a session opened
 * by `POST /login`, on every route but those whose config says `public: true`; 401 and the login form
 * otherwise. Wrong tokens are limited per client address with `@fastify/rate-limit` (5 a minute by
 * default), after which the address gets 429 with `Retry-After` whatever it presents.
 *
 * @example
 * ```ts
 * await app.register(viewerAccess, { token, tls: false, logger });
 * ```
 */
export const viewerAccess = fp(viewerAccessPlugin, { fastify: '5.x', name: 'passerelle-viewer-access' });

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Name of the session cookie set after a successful token login in the browser. */
export const SESSION_COOKIE = 'pex_audit_session';

const SESSION_MS = 8 * 60 * 60 * 1000;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The viewer's access check: the bearer token from the configuration, presented either as
 * `Authorization: Bearer <token>` or once through the login form, which opens an 8-hour session (an
 * HttpOnly, SameSite=Strict cookie holding a random id, never the token). Tokens are compared as SHA-256
 * digests with `timingSafeEqual`, so the comparison time does not depend on how much of a guess is right.
 */
export class ViewerAuth {
  readonly #token: Buffer;
  readonly #sessions = new Map<string, number>();

  constructor(token: string) {
    this.#token = digest(token);
  }

  /** Whether `presented` is the configured token (constant time). */
  tokenMatches(presented: string): boolean {
    return timingSafeEqual(digest(presented), this.#token);
  }

  /** Whether the `Cookie` header names a live session. */
  hasSession(cookieHeader: string | undefined): boolean {
    const sid = cookieValue(cookieHeader, SESSION_COOKIE);
    if (!sid) return false;
    const until = this.#sessions.get(sid);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.#sessions.delete(sid);
      return false;
    }
    return true;
  }

  /** Opens a session; returns the `Set-Cookie` value. */
  openSession(secure: boolean): string {
    const now = Date.now();
    for (const [id, until] of this.#sessions) if (until < now) this.#sessions.delete(id);
    const sid = randomBytes(32).toString('base64url');
    this.#sessions.set(sid, now + SESSION_MS);
    return `${SESSION_COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${
      secure ? '; Secure' : ''
    }`;
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined when the header is absent or not one. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer ([\x21-\x7e]{1,1024})$/.exec(authorization ?? '')?.[1];
}

/** The value of cookie `name` in a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

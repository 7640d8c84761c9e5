import { createHash, randomBytes } from 'node:crypto';

/** A signed-in case officer, as a request sees it. */
export interface OfficerSession {
  officerId: string;
  /** The hosted ids the account works for, as when it signed in. */
  participants: readonly string[];
}

interface Held extends OfficerSession {
  /** Ends when no request came for this long (idle), or at `endsAt` at the latest. */
  lastSeen: number;
  endsAt: number;
}

/** How long sessions last: idle and absolute, in ms. */
export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

const digest = (id: string): string => createHash('sha256').update(id).digest('base64url');

/**
 * The page's sessions, in this process's memory: a random 256-bit id goes in the cookie, and only its
 * SHA-256 is kept here, so that the memory of the process does not hold a usable cookie. A session ends
 * after `idleMs` without a request (default 30 minutes) and after `absoluteMs` in any case (default
 * 8 hours); a restart of the service signs every officer out.
 */
export class SessionStore {
  readonly #held = new Map<string, Held>();
  readonly limits: SessionLimits;

  constructor(
    limits: Partial<SessionLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { idleMs: limits.idleMs ?? 30 * 60_000, absoluteMs: limits.absoluteMs ?? 8 * 3_600_000 };
  }

  /** Opens a session; returns the id for the cookie. */
  open(session: OfficerSession): string {
    const now = this.now();
    this.sweep(now);
    const id = randomBytes(32).toString('base64url');
    this.#held.set(digest(id), {
      officerId: session.officerId,
      participants: [...session.participants],
      lastSeen: now,
      endsAt: now + this.limits.absoluteMs,
    });
    return id;
  }

  /** The live session of a cookie's id (its idle time starts again), or undefined. */
  get(id: string | undefined): OfficerSession | undefined {
    if (!id || id.length > 128) return undefined;
    const key = digest(id);
    const held = this.#held.get(key);
    const now = this.now();
    if (!held) return undefined;
    if (now - held.lastSeen > this.limits.idleMs || now >= held.endsAt) {
      this.#held.delete(key);
      return undefined;
    }
    held.lastSeen = now;
    return { officerId: held.officerId, participants: held.participants };
  }

  /** Ends a session (sign-out). */
  close(id: string | undefined): void {
    if (id) this.#held.delete(digest(id));
  }

  /** Ends every session of an officer (an account disabled or removed). */
  closeOfficer(officerId: string): void {
    for (const [key, held] of this.#held) if (held.officerId === officerId) this.#held.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, held] of this.#held)
      if (now - held.lastSeen > this.limits.idleMs || now >= held.endsAt) this.#held.delete(key);
  }
}

import { DoorError } from './door-error.js';

/** The header that names the case officer who takes an action. */
export const OFFICER_HEADER = 'Passerelle-Officer';

/**
 * A pseudonymous officer id: a UUID, or a short lower-case prefix and 8 to 32 hexadecimal digits
 * (`off-3f9a27c1`). Both forms are opaque by construction: no name, initials or e-mail address fits them.
 * An administration maps its staff to such ids (a random id per officer, or an HMAC of its staff number)
 * and keeps the table itself.
 */
export const OFFICER_ID_PATTERN =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z]{2,12}-[0-9a-f]{8,32})$/;

/**
 * Reads the officer header: `undefined` when absent, the id when well formed, and a `badRequest`
 * (`ERR_OFFICER_INVALID`, the header named as the bad input) otherwise, including when it is repeated.
 *
 * @example
 * ```ts
 * parseOfficer('off-3f9a27c1'); // 'off-3f9a27c1'
 * parseOfficer('jan.peeters@example.be'); // throws ERR_OFFICER_INVALID
 * ```
 */
export function parseOfficer(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && OFFICER_ID_PATTERN.test(value)) return value;
  throw new DoorError(
    'ERR_OFFICER_INVALID',
    `${OFFICER_HEADER} must be one pseudonymous officer id (a UUID, or a prefix and 8 to 32 hexadecimal digits such as off-3f9a27c1), never a name or an e-mail address.`,
    { details: { in: 'header', name: OFFICER_HEADER } },
  );
}

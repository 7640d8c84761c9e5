/**
 * The scopes a door grants, each on its own (none implies another): `read` to consult dossiers and events
 * and subscribe to them, `decide` to take actions, `admin` to manage the door's clients.
 */
export const DOOR_SCOPES = ['read', 'decide', 'admin'] as const;

/** One of {@link DOOR_SCOPES}. */
export type DoorScope = (typeof DOOR_SCOPES)[number];

/** Whether `value` names a door scope. */
export function isDoorScope(value: unknown): value is DoorScope {
  return typeof value === 'string' && (DOOR_SCOPES as readonly string[]).includes(value);
}

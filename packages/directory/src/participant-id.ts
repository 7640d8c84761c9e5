import { PasserelleError } from '@passerelle/errors';

/** Kinds of participant (DESIGN.md, "Participants"). */
export const ParticipantKinds = [
  'regional-authority',
  'immigration-office',
  'consular-post',
  'commune',
  'portal',
  'auditor',
] as const;

/** One of {@link ParticipantKinds}. */
export type ParticipantKind = (typeof ParticipantKinds)[number];

/** The four regional labour authorities. */
export const REGION_IDS = ['region-vlaanderen', 'region-wallonie', 'region-bruxelles', 'region-dg'] as const;

/**
 * Stable participant id: `region-<name>`, `immigration-office`, `post-<code>`, `commune-<NIS code>`,
 * `portal-<name>`, `auditor`. Ids are NATS subject tokens: lower-case letters, digits and hyphens only.
 */
export const PARTICIPANT_ID_PATTERN =
  /^(region-(vlaanderen|wallonie|bruxelles|dg)|immigration-office|post-[a-z0-9]{2,16}|commune-\d{5}|portal-[a-z0-9][a-z0-9-]{0,30}|auditor)$/;

/** Whether `id` is a well-formed participant id. */
export function isParticipantId(id: string): boolean {
  return PARTICIPANT_ID_PATTERN.test(id);
}

/**
 * The kind of a participant id, or a typed error for a malformed one.
 *
 * @example
 * ```ts
 * participantKind('commune-21004'); // 'commune'
 * ```
 */
export function participantKind(id: string): ParticipantKind {
  if (!isParticipantId(id)) {
    throw new PasserelleError('ERR_PARTICIPANT_ID_INVALID', `"${id.slice(0, 64)}" is not a participant id.`, {
      details: { pattern: PARTICIPANT_ID_PATTERN.source },
    });
  }
  if (id.startsWith('region-')) return 'regional-authority';
  if (id === 'immigration-office') return 'immigration-office';
  if (id.startsWith('post-')) return 'consular-post';
  if (id.startsWith('commune-')) return 'commune';
  if (id.startsWith('portal-')) return 'portal';
  return 'auditor';
}

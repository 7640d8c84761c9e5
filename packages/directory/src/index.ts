export {
  PARTICIPANT_ID_PATTERN,
  ParticipantKinds,
  REGION_IDS,
  isParticipantId,
  participantKind,
} from './participant-id.js';
export type { ParticipantKind } from './participant-id.js';

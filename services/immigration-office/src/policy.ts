import type { Policy } from '@passerelle/procedure';
import type { OfficeDossier } from './rules.js';
import type { ResidenceDecision } from './table.js';

/**
 * Grants residence for the work-authorisation period as soon as the work is authorised and the fee paid:
 * for the demo and the tests, which pass it openly. Without it a case officer decides each residence
 * (`decide-residence`), and the dossiers wait in the worklist.
 */
export const automaticOfficePolicy: Policy<OfficeDossier> = {
  'decide-residence': (): ResidenceDecision => ({ decision: 'granted' }),
};

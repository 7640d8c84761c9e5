import type { Policy } from '@passerelle/procedure';
import { type RegionDossier, automaticWorkDecision } from './rules.js';

/**
 * Grants every work authorisation for the requested period within the legal maxima, as soon as the dossier
 * is admissible: for the demo and the tests, which pass it openly. Without it a case officer decides each
 * one (`decide-work`), and admissible dossiers wait in the worklist.
 */
export const automaticRegionPolicy: Policy<RegionDossier> = {
  'decide-work': ({ dossier }) => automaticWorkDecision(dossier),
};

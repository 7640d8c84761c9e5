import type { Policy } from '@passerelle/procedure';
import type { PostDossier } from './rules.js';

/**
 * Issues the visa as soon as the annex 46 is in, as if the person had presented the passport at once: for
 * the demo and the tests, which pass it openly. Without it a post's officer issues each visa.
 */
export const automaticPostPolicy: Policy<PostDossier> = { 'issue-visa': () => ({}) };

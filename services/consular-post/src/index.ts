export { acceptAnnex46, issueVisa } from './rules.js';
export type { PostDossier } from './rules.js';
export { createConsularPostService } from './service.js';
export type { ConsularPostConfig, ConsularPostService } from './service.js';

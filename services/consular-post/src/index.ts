export { automaticPostPolicy } from './policy.js';
export type { PostDossier } from './rules.js';
export { createConsularPostService } from './service.js';
export type { ConsularPostConfig, ConsularPostService } from './service.js';
export { evolvePost, postTable } from './table.js';
export type { PostEvent } from './table.js';

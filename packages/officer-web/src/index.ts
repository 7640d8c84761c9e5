// The case officer's page: mount the plugin on a fastify app, or start it on its own port.
export { OFFICER_CSP_DIRECTIVES, officerWebPlugin } from './plugin.js';
export type { OfficerWebOptions } from './plugin.js';
export { startOfficerWeb } from './server.js';
export type { OfficerWebServer, OfficerWebServerOptions } from './server.js';
export type { DeskWorkItem, OfficerDesk } from './desk.js';

// Officer accounts.
export { MIN_PASSWORD_LENGTH, OfficerAccounts } from './officer-accounts.js';
export type { OfficerAccount } from './officer-accounts.js';
export { hashPassword, verifyPassword } from './password.js';
export { OfficerWebError } from './officer-web-error.js';
export type { OfficerWebErrorCode } from './officer-web-error.js';

// The dossier's timeline.
export { exchangeTimeline } from './timeline.js';
export type { ExchangeTimelineOptions, TimelineEntry, TimelineSource } from './timeline.js';
export { swimLanes } from './swim-lanes.js';

// Forms from JSON Schema, and escaping.
export { buildSchemaForm, nodeForPointer, readSchemaForm } from './schema-form.js';
export type { FormNode, PostedForm, ReadForm, SchemaForm, SchemaResolver } from './schema-form.js';
export { renderFormFields } from './form-render.js';
export type { FormState } from './form-render.js';
export { FormChecker, definitionsResolver } from './definitions.js';
export { SafeHtml, escapeHtml, html } from './html.js';

// The case officer's page: mount the plugin on a fastify app, or start it on its own port.
export type { OfficerWebOptions } from './plugin.js';
export { startOfficerWeb } from './server.js';
export type { OfficerWebServer, OfficerWebServerOptions } from './server.js';
export type { DeskActOptions, DeskWorkItem, OfficerDesk } from './desk.js';

// Officer accounts.
export { OfficerAccounts } from './officer-accounts.js';
export type { OfficerAccount } from './officer-accounts.js';

// The dossier's timeline.
export { exchangeTimeline } from './timeline.js';
export type { ExchangeTimelineOptions, TimelineEntry, TimelineSource } from './timeline.js';
export { SafeHtml, escapeHtml, html } from './html.js';

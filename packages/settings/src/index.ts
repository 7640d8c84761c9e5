export { defineSettings } from './define-settings.js';
export type { Settings, SettingsSources } from './define-settings.js';
export { SETTINGS_DIALECT } from './settings-schema.js';
export type { SettingSchema, SettingsSchema } from './settings-schema.js';
export { replaceSettingsTable } from './settings-table.js';
export { readSettingsFile } from './settings-file.js';
export { LOG_LEVEL_SETTING, PATH_SETTING, PORT_SETTING } from './common-settings.js';

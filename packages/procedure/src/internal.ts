// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to procedure's users.
export { belgianPublicHolidays, easterSunday, isWorkingDay, workingDaysBetween } from './calendar.js';
export { addYears } from './dates.js';
export { ictDaysUsed, ictMaximumEnd } from './periods.js';
export { BRUSSELS_COMMUNES, GERMAN_SPEAKING_COMMUNES } from './region.js';
export { DOSSIER_MACHINES, assertStep } from './state-machine.js';

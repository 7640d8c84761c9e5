// What the bodies' tests share: sample payloads, step commands and their tables' compiled inputs.
// Not for production code.
export { actionBy, messageFrom } from './commands.js';
export type { SampleActor } from './commands.js';
export { sampleAnnex46, sampleApplication, sampleDocument, sampleMobility } from './samples.js';
export { sampleShortTermMobility } from './short-term-mobility-sample.js';
export { loadTableInputs } from './table-inputs.js';
export type { LoadedTableInputs } from './table-inputs.js';
export { codesInPhases, decided, outcomeCode } from './outcomes.js';
export { tableStepper } from './table-stepper.js';
export type { TableStepper } from './table-stepper.js';

export { ERROR_CATALOGUE } from './catalogue.js';
export type { ErrorCode } from './catalogue.js';
export { PasserelleError, isPasserelleError } from './passerelle-error.js';
export { renderErrorDocs } from './render.js';

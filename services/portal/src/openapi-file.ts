import { fileURLToPath } from 'node:url';
import type { Contracts } from '@passerelle/contracts';
import { format } from 'prettier';
import { buildOpenApiDocument } from './openapi.js';

/** Where the committed OpenAPI document lives (`services/portal/openapi.json`). */
export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));

/** The OpenAPI document as committed: JSON formatted by the repository's Prettier settings. */
export async function renderOpenApiFile(contracts: Contracts): Promise<string> {
  return format(JSON.stringify(buildOpenApiDocument(contracts)), {
    parser: 'json',
    printWidth: 110,
    singleQuote: true,
    trailingComma: 'all',
  });
}

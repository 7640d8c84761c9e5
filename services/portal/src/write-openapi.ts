/**
 * `pnpm --filter @passerelle/portal gen:openapi`: writes services/portal/openapi.json from the schemas.
 * A test fails when the committed file is not current.
 */
import { writeFile } from 'node:fs/promises';
import { loadContracts } from '@passerelle/contracts';
import { OPENAPI_FILE, renderOpenApiFile } from './openapi-file.js';

await writeFile(OPENAPI_FILE, await renderOpenApiFile(await loadContracts()));
console.log(`${OPENAPI_FILE} written`);

/** Writes docs/errors.md from the error catalogue (`pnpm gen:errors`). */
import { writeFileSync } from 'node:fs';
import { renderErrorDocs } from '@passerelle/errors';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDocs());
console.log('docs/errors.md written');

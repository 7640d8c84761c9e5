import { ERROR_CATALOGUE } from './catalogue.js';

/** Renders the catalogue as the Markdown of `docs/errors.md`. */
export function renderErrorDocs(): string {
  const lines = [
    '# Error codes',
    '',
    'Generated from `packages/errors/src/catalogue.ts` by `pnpm gen:errors`; a test fails when this file is out of date.',
    'Every error Passerelle raises on purpose carries one of these codes; the codes are stable.',
    '',
    '| code | area | retryable | meaning |',
    '| --- | --- | --- | --- |',
  ];
  for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
    lines.push(
      `| \`${code}\` | ${entry.area} | ${entry.retryable ? 'yes' : 'no'} | ${entry.description.replace(/\|/g, '\\|')} |`,
    );
  }
  return lines.join('\n') + '\n';
}

import { describe, expect, test } from 'vitest';
import { pointerCovers } from '../src/internal.js';
import { useContracts } from './use-contracts.js';

/** Definitions whose every field is personal data, and documents, which always are. */
const PERSONAL_DEFS = new Set(['Applicant', 'Address', 'Employer']);
const DOCUMENT_DEFS = new Set(['DocumentRef', 'HealthInsuranceProof']);

/** Pointers (with `*` for array items) of every place a schema uses one of the personal definitions. */
function personalPlaces(
  schema: unknown,
  defs: Record<string, Record<string, unknown>>,
  pointer = '',
  out: { pointer: string; def: string }[] = [],
): { pointer: string; def: string }[] {
  if (typeof schema !== 'object' || schema === null) return out;
  const node = schema as Record<string, unknown>;
  if (typeof node.$ref === 'string') {
    const name = /#\/\$defs\/(\w+)$/.exec(node.$ref)?.[1] ?? '';
    if (PERSONAL_DEFS.has(name) || DOCUMENT_DEFS.has(name)) out.push({ pointer, def: name });
    else if (defs[name]) personalPlaces(defs[name], defs, pointer, out);
  }
  for (const [key, sub] of Object.entries((node.properties ?? {}) as Record<string, unknown>)) {
    personalPlaces(sub, defs, `${pointer}/${key}`, out);
  }
  for (const branch of (node.oneOf ?? []) as unknown[]) personalPlaces(branch, defs, pointer, out);
  if (node.items) personalPlaces(node.items, defs, `${pointer}/*`, out);
  return out;
}

describe('personal data in the agreement', () => {
  const suite = useContracts();

  test('personal data - every identity, address, employer field and every document is in a category', () => {
    const defs = suite.contracts.definitions()[0]!.schema.$defs as Record<string, Record<string, unknown>>;
    const uncovered: string[] = [];
    for (const loaded of suite.contracts.schemas()) {
      const categorised = Object.values(
        suite.contracts.agreement().messages[loaded.type]!.personalData,
      ).flat();
      for (const place of personalPlaces(loaded.schema, defs)) {
        const fields = PERSONAL_DEFS.has(place.def)
          ? Object.keys(defs[place.def]!.properties as object).map((f) => `${place.pointer}/${f}`)
          : [place.pointer];
        for (const field of fields) {
          if (!categorised.some((p) => pointerCovers(p, field))) uncovered.push(`${loaded.type}: ${field}`);
        }
      }
    }
    expect(uncovered).toEqual([]);
  });
});

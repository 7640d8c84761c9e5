import { fileURLToPath } from 'node:url';
import { loadContracts } from '@passerelle/contracts';
import type { JsonSchema } from '@passerelle/procedure';
import { beforeAll, describe, expect, test } from 'vitest';
import { FormChecker, definitionsResolver } from '../src/definitions.js';
import { renderFormFields } from '../src/form-render.js';
import { type SchemaForm, buildSchemaForm, nodeForPointer, readSchemaForm } from '../src/schema-form.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
/** Markup with its layout whitespace folded, to match on. */
const flat = (markup: string): string =>
  markup.replace(/\s+/g, ' ').replace(/ ?> ?/g, '>').replace(/ </g, '<');
const COMMON = 'https://passerelle.invalid/schemas/defs/common.v1.json#/$defs';

// The shapes of the bodies' actions: a decision told apart by `decision`, and dates, an optional object
// and a document reference of the shared definitions.
const decideWork: JsonSchema = {
  type: 'object',
  oneOf: [
    {
      type: 'object',
      properties: { decision: { const: 'granted' }, period: { $ref: `${COMMON}/Period` } },
      required: ['decision', 'period'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        decision: { const: 'refused' },
        reason: { type: 'string', enum: ['conditions-not-met', 'labour-market', 'other'] },
      },
      required: ['decision', 'reason'],
      additionalProperties: false,
    },
  ],
};
const registerArrival: JsonSchema = {
  type: 'object',
  properties: {
    enteredOn: { $ref: `${COMMON}/IsoDate` },
    presented: {
      type: 'object',
      description: 'The annex 46 the person presents.',
      properties: { period: { $ref: `${COMMON}/Period` }, decidedOn: { $ref: `${COMMON}/IsoDate` } },
      required: ['period', 'decidedOn'],
      additionalProperties: false,
    },
    document: { $ref: `${COMMON}/DocumentRef` },
  },
  required: ['enteredOn'],
  additionalProperties: false,
};

describe('schema forms - built from the actions’ JSON Schemas', () => {
  let definitions: JsonSchema[];
  let checker: FormChecker;
  let work: SchemaForm;
  let arrival: SchemaForm;
  beforeAll(async () => {
    definitions = (await loadContracts({ root })).definitions().map((d) => d.schema);
    checker = new FormChecker(definitions);
    work = buildSchemaForm('work', decideWork, definitionsResolver(definitions));
    arrival = buildSchemaForm('arrival', registerArrival, definitionsResolver(definitions));
  });

  test('schema form - a oneOf told apart by a const is a radio group; each branch its own fields', () => {
    expect(work.root.kind).toBe('choice');
    const markup = flat(renderFormFields(work).value);
    expect(markup).toContain('<legend>Decision');
    expect(markup).toMatch(/<input type="radio" id="work-\d+-granted" name="\/decision" value="granted"/);
    expect(markup).toContain('name="granted|/period/from"');
    expect(markup).toContain('type="date"');
    expect(markup).toContain('name="refused|/reason"');
    expect(markup).toContain('<option value="labour-market">');
  });

  test('schema form - every control has a label, and hints are tied to their field', () => {
    for (const form of [work, arrival]) {
      const markup = flat(renderFormFields(form).value);
      const ids = [...markup.matchAll(/<(?:input|select|textarea)[^>]* id="([^"]+)"/g)].map((m) => m[1]);
      expect(ids.length).toBeGreaterThan(2);
      for (const id of ids) expect(markup).toContain(`<label for="${id}">`);
      for (const [, id] of markup.matchAll(/aria-describedby="([^"]+)"/g))
        for (const part of id!.split(' ')) expect(markup).toContain(`id="${part}"`);
    }
  });

  test('schema form - a posted form reads back as the input of the branch chosen, and passes its schema', () => {
    const { input, schema } = readSchemaForm(work, {
      '/decision': 'granted',
      'granted|/period/from': '2027-03-01',
      'granted|/period/to': '2028-02-29',
      'refused|/reason': 'other',
    });
    expect(input).toEqual({ decision: 'granted', period: { from: '2027-03-01', to: '2028-02-29' } });
    expect(checker.issues(schema, input)).toEqual([]);
  });

  test('schema form - errors name the fields of the branch chosen, by JSON pointer, beside them', () => {
    const posted = { '/decision': 'granted', 'granted|/period/from': '2027-02-30' };
    const { input, schema } = readSchemaForm(work, posted);
    const issues = checker.issues(schema, input);
    expect(issues.map((i) => [i.name, i.detail]).sort()).toEqual([
      ['/period/from', '/period/from must be a valid date.'],
      ['/period/to', '/period/to is required.'],
    ]);
    const from = nodeForPointer(work, posted, '/period/from');
    const to = nodeForPointer(work, posted, '/period/to');
    expect([from?.label, to?.label]).toEqual(['From', 'To']);
    const markup = flat(
      renderFormFields(work, { posted, errors: new Map([[to!.id, ['To is required.']]]) }).value,
    );
    expect(markup).toContain(`<p class="field-error" id="${to!.id}-error">To is required.</p>`);
    expect(markup).toMatch(
      new RegExp(`id="${to!.id}"[^>]*aria-describedby="[^"]*${to!.id}-error"[^>]*aria-invalid="true"`),
    );
    expect(markup).toContain('value="2027-02-30"');
  });

  test('schema form - no decision chosen: the decision itself is what is missing', () => {
    const { input, schema } = readSchemaForm(work, { 'refused|/reason': 'other' });
    const issues = checker.issues(schema, input);
    expect(issues.map((i) => [i.name, i.detail])).toEqual([['/decision', '/decision is required.']]);
    expect(nodeForPointer(work, {}, '/decision')?.kind).toBe('choice');
  });

  test('schema form - an optional object left empty is absent; numbers are read as numbers', () => {
    const empty = readSchemaForm(arrival, { '/enteredOn': '2027-04-02', '/presented/decidedOn': '  ' });
    expect(empty.input).toEqual({ enteredOn: '2027-04-02' });
    expect(checker.issues(empty.schema, empty.input)).toEqual([]);
    const partial = readSchemaForm(arrival, {
      '/enteredOn': '2027-04-02',
      '/document/size': '1200',
      '/document/mediaType': 'application/pdf',
    });
    expect(partial.input).toMatchObject({ document: { size: 1200, mediaType: 'application/pdf' } });
    const issues = checker.issues(partial.schema, partial.input).map((i) => i.name);
    expect(issues.sort()).toEqual(['/document/objectKey', '/document/sha256']);
    const typed = readSchemaForm(arrival, { '/enteredOn': '2027-04-02', '/document/size': 'twelve' });
    expect(checker.issues(typed.schema, typed.input).map((i) => i.detail)).toContain(
      '/document/size must be of type integer.',
    );
  });
});

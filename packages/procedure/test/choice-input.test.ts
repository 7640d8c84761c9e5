import { createSchemaCompiler } from '@passerelle/contracts';
import { expect, test } from 'vitest';
import { choiceInput } from '../src/index.js';

const check = createSchemaCompiler().compile(
  choiceInput('outcome', {
    positive: { properties: { checkedOn: { type: 'string' } }, required: [] },
    negative: {
      properties: { reason: { enum: ['absent'] }, checkedOn: { type: 'string' } },
      required: ['reason'],
    },
  }),
);

test.each([
  [{ outcome: 'positive' }, true],
  [{ outcome: 'positive', checkedOn: '2027-04-08' }, true],
  [{ outcome: 'negative', reason: 'absent' }, true],
  // a member required by its alternative, one of another alternative, an unknown choice, no choice at all
  [{ outcome: 'negative' }, false],
  [{ outcome: 'positive', reason: 'absent' }, false],
  [{ outcome: 'maybe' }, false],
  [{ checkedOn: '2027-04-08' }, false],
])('choiceInput - %j is valid: %s', (input, valid) => {
  expect(check(input)).toBe(valid);
});

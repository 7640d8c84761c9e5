import type { JsonSchema } from './decider.js';

/** One alternative of a choice input: the members it carries besides the choice. */
export interface InputAlternative {
  /** The members besides the choice, by name (each a schema or a reference). */
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  /** Which of those members must be present; all of them when left out. */
  readonly required?: readonly string[];
}

/**
 * An action's input schema that is one of a few closed alternatives told apart by one member's value (a
 * decision `granted` or `refused`, an outcome `positive` or `negative`): the form an officer fills in and the
 * validator both read it as a `oneOf`, so an alternative never takes another's members.
 *
 * @example
 * ```ts
 * choiceInput('decision', {
 *   granted: {},
 *   refused: { properties: { reason: messageSchemaRef('residence-decided', '/oneOf/1/properties/reason') } },
 * });
 * ```
 */
export function choiceInput(
  choice: string,
  alternatives: Readonly<Record<string, InputAlternative>>,
): JsonSchema {
  return {
    type: 'object',
    oneOf: Object.entries(alternatives).map(([value, alternative]) => {
      const properties = alternative.properties ?? {};
      return {
        type: 'object',
        properties: { [choice]: { const: value }, ...properties },
        required: [choice, ...(alternative.required ?? Object.keys(properties))],
        additionalProperties: false,
      };
    }),
  };
}

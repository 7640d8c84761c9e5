import type { JsonSchema } from '@passerelle/procedure';

/** Resolves a `$ref` to a shared definition (`…/defs/common.v1.json#/$defs/Period`) to its schema. */
export type SchemaResolver = (ref: string) => JsonSchema | undefined;

/** How a leaf input is typed in. */
export type FieldControl = 'text' | 'date' | 'number' | 'integer' | 'select' | 'checkbox' | 'json';

interface NodeBase {
  /** JSON pointer of the input the node fills (`/period/from`); `''` for the whole input. */
  pointer: string;
  /** Element id, unique in the page. */
  id: string;
  label: string;
  hint?: string;
  required: boolean;
}

/** One input. */
export interface FieldNode extends NodeBase {
  kind: 'field';
  /** The form control's name: the pointer, after the branches chosen on its way (`refused|/reason`). */
  name: string;
  control: FieldControl;
  options?: readonly string[];
}

/** An object: a fieldset of its members. */
export interface GroupNode extends NodeBase {
  kind: 'group';
  schema: JsonSchema;
  children: FormNode[];
}

/**
 * A `oneOf` of objects told apart by one member's `const` (`decision`: granted or refused): a radio group
 * for that member, and each branch's other members below it.
 */
export interface ChoiceNode extends NodeBase {
  kind: 'choice';
  /** The member that tells the branches apart. */
  discriminator: string;
  /** The radio group's name. */
  name: string;
  branches: { value: string; label: string; group: GroupNode }[];
}

/** A node of a form: the shape of an action's input schema, ready to render and to read back. */
export type FormNode = FieldNode | GroupNode | ChoiceNode;

/** An action's input as a form: its root node (a group, or a choice). */
export interface SchemaForm {
  /** The id prefix of every element of the form. */
  formId: string;
  root: FormNode;
}

/** "enteredOn" → "Entered on"; "annex-46" stays as it is. */
export function humanize(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const escapeToken = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Builds the form of an action's input schema (resolved to shared definitions, as a body service lists its
 * actions): a fieldset per object, a radio group per `oneOf` told apart by a `const` member, a select per
 * `enum`, a date input per `format: date`, a number input per number, a checkbox per boolean, and a JSON
 * text area for anything else. Labels come from member names, hints from `description`.
 *
 * @example
 * ```ts
 * const form = buildSchemaForm('decide-work', action.input, resolver);
 * ```
 */
export function buildSchemaForm(formId: string, schema: JsonSchema, resolve: SchemaResolver): SchemaForm {
  let counter = 0;
  const nextId = (): string => `${formId}-${++counter}`;

  const deref = (s: JsonSchema, depth = 0): JsonSchema => {
    const ref = s['$ref'];
    if (typeof ref !== 'string' || depth > 16) return s;
    const target = resolve(ref);
    if (!target) return s;
    const { $ref: _ref, ...own } = s;
    // a definition's own relative refs (`#/$defs/IsoDate`) point into its file
    return deref({ ...absolutize(target, ref.split('#')[0] ?? ''), ...own }, depth + 1);
  };

  const node = (
    raw: JsonSchema,
    pointer: string,
    scope: string,
    label: string,
    required: boolean,
  ): FormNode => {
    const s = deref(raw);
    const hint = typeof s['description'] === 'string' ? s['description'] : undefined;
    const base = { pointer, id: nextId(), label, required, ...(hint ? { hint } : {}) };
    const alternatives = s['oneOf'] ?? s['anyOf'];
    if (Array.isArray(alternatives)) {
      const choice = choiceOf(
        alternatives.map((a) => deref(a as JsonSchema)),
        s,
      );
      if (choice) {
        return {
          ...base,
          kind: 'choice',
          discriminator: choice.discriminator,
          name: `${scope}${pointer}/${escapeToken(choice.discriminator)}`,
          branches: choice.branches.map(({ value, schema: branch }) => ({
            value,
            label: humanize(value),
            group: group(branch, pointer, `${scope}${value}|`, label, true, choice.discriminator),
          })),
        };
      }
    }
    if (s['type'] === 'object' && isObject(s['properties'])) return group(s, pointer, scope, label, required);
    const field = (control: FieldControl, options?: readonly string[]): FieldNode => ({
      ...base,
      kind: 'field',
      name: `${scope}${pointer}`,
      control,
      ...(options ? { options } : {}),
    });
    if (Array.isArray(s['enum']) && s['enum'].every((v) => typeof v === 'string'))
      return field('select', s['enum']);
    switch (s['type']) {
      case 'string':
        return field(s['format'] === 'date' ? 'date' : 'text');
      case 'integer':
        return field('integer');
      case 'number':
        return field('number');
      case 'boolean':
        return field('checkbox');
      default:
        return field('json');
    }
  };

  const group = (
    s: JsonSchema,
    pointer: string,
    scope: string,
    label: string,
    required: boolean,
    skip?: string,
  ): GroupNode => {
    const hint = typeof s['description'] === 'string' ? s['description'] : undefined;
    const properties = isObject(s['properties']) ? s['properties'] : {};
    const needed = new Set(Array.isArray(s['required']) ? (s['required'] as string[]) : []);
    const id = nextId();
    return {
      kind: 'group',
      pointer,
      id,
      label,
      required,
      schema: s,
      ...(hint ? { hint } : {}),
      children: Object.entries(properties)
        .filter(([name]) => name !== skip)
        .map(([name, child]) =>
          node(
            child as JsonSchema,
            `${pointer}/${escapeToken(name)}`,
            scope,
            humanize(name),
            needed.has(name),
          ),
        ),
    };
  };

  return { formId, root: node(schema, '', '', 'Decision', true) };
}

/** A definition's relative references made absolute against the file it came from. */
function absolutize(schema: JsonSchema, base: string): JsonSchema {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isObject(v)) return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        k,
        k === '$ref' && typeof x === 'string' && x.startsWith('#') ? `${base}${x}` : walk(x),
      ]),
    );
  };
  return walk(schema) as JsonSchema;
}

/** The member whose `const` tells the alternatives apart, when every one is an object that has it. */
function choiceOf(
  alternatives: JsonSchema[],
  parent: JsonSchema,
): { discriminator: string; branches: { value: string; schema: JsonSchema }[] } | undefined {
  const first = alternatives[0];
  if (!first || !isObject(first['properties'])) return undefined;
  for (const candidate of Object.keys(first['properties'])) {
    const branches = alternatives.map((a) => {
      const p = isObject(a['properties']) ? a['properties'][candidate] : undefined;
      const value = isObject(p) ? p['const'] : undefined;
      // the parent's own keywords (its type) hold in every branch
      return typeof value === 'string'
        ? { value, schema: { ...withoutAlternatives(parent), ...a } }
        : undefined;
    });
    if (
      branches.every((b) => b !== undefined) &&
      new Set(branches.map((b) => b.value)).size === branches.length
    )
      return { discriminator: candidate, branches };
  }
  return undefined;
}

function withoutAlternatives(s: JsonSchema): JsonSchema {
  const { oneOf: _o, anyOf: _a, description: _d, ...rest } = s;
  return rest;
}

/** A posted form: each control's name and its value(s), as `@fastify/formbody` parses it. */
export type PostedForm = Readonly<Record<string, string | string[] | undefined>>;

/** What a posted form says: the input, and the schema of the branches it chose, to check it against. */
export interface ReadForm {
  input: unknown;
  /** The input schema with each `oneOf` replaced by the branch chosen (all when none is). */
  schema: JsonSchema;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * Reads a posted form back into an action's input: empty fields are left out (so that a missing required
 * member is reported as such), numbers are read as numbers when they are ones (as typed otherwise, for the
 * schema to refuse), JSON areas parsed when they parse. Also returns the schema of the branches chosen, so
 * that the errors a check finds name the fields of that branch rather than "matches no alternative".
 */
export function readSchemaForm(form: SchemaForm, posted: PostedForm): ReadForm {
  // `filled`: whether anything was typed in the node; an optional object with nothing typed is absent
  const read = (n: FormNode): { value: unknown; schema: JsonSchema; filled: boolean } => {
    switch (n.kind) {
      case 'field': {
        const raw = one(posted[n.name]);
        const schema = {};
        if (n.control === 'checkbox') return { value: raw !== undefined, schema, filled: raw !== undefined };
        if (raw === undefined || raw.trim() === '') return { value: undefined, schema, filled: false };
        const text = n.control === 'text' ? raw : raw.trim();
        if (n.control === 'integer' || n.control === 'number')
          return { value: /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text, schema, filled: true };
        if (n.control === 'json') {
          try {
            return { value: JSON.parse(text) as unknown, schema, filled: true };
          } catch {
            return { value: text, schema, filled: true };
          }
        }
        return { value: text, schema, filled: true };
      }
      case 'group': {
        const out: Record<string, unknown> = {};
        const properties: Record<string, unknown> = {
          ...(isObject(n.schema['properties']) ? n.schema['properties'] : {}),
        };
        let filled = false;
        for (const child of n.children) {
          const member = memberOf(child.pointer);
          const read_ = read(child);
          filled ||= read_.filled;
          if (read_.value !== undefined) out[member] = read_.value;
          if (child.kind !== 'field') properties[member] = read_.schema;
        }
        const schema: JsonSchema = { ...n.schema, properties };
        // a required object is there even empty, for its missing members to be named
        if (!filled && !n.required) return { value: undefined, schema, filled };
        return { value: out, schema, filled };
      }
      case 'choice': {
        const chosen = n.branches.find((b) => b.value === one(posted[n.name]));
        if (!chosen) {
          // nothing chosen: the discriminator is what is missing
          const schema: JsonSchema = {
            type: 'object',
            properties: { [n.discriminator]: { enum: n.branches.map((b) => b.value) } },
            required: [n.discriminator],
          };
          return { value: n.required ? {} : undefined, schema, filled: false };
        }
        const { value, schema } = read(chosen.group);
        return { value: { [n.discriminator]: chosen.value, ...(value as object) }, schema, filled: true };
      }
    }
  };
  const { value, schema } = read(form.root);
  return { input: value ?? {}, schema };
}

const memberOf = (pointer: string): string =>
  (pointer.split('/').pop() ?? '').replace(/~1/g, '/').replace(/~0/g, '~');

/** Every node of a form, depth first; for a choice, only the branch chosen when one is named. */
export function formNodes(form: SchemaForm, chosen?: PostedForm): FormNode[] {
  const out: FormNode[] = [];
  const walk = (n: FormNode): void => {
    out.push(n);
    if (n.kind === 'group') n.children.forEach(walk);
    if (n.kind === 'choice') {
      const pick = chosen ? n.branches.find((b) => b.value === one(chosen[n.name])) : undefined;
      for (const b of pick ? [pick] : n.branches) walk(b.group);
    }
  };
  walk(form.root);
  return out;
}

/**
 * The node an input error is shown beside, by the JSON pointer the problem names: the field itself, or
 * else the closest group or choice around it (a choice takes its discriminator's errors). Undefined for
 * the whole input, which the form shows above its fields.
 */
export function nodeForPointer(form: SchemaForm, posted: PostedForm, pointer: string): FormNode | undefined {
  let best: FormNode | undefined;
  let bestLength = -1;
  for (const n of formNodes(form, posted)) {
    const own =
      n.kind === 'choice'
        ? [`${n.pointer}/${escapeToken(n.discriminator)}`, ...(n.pointer ? [n.pointer] : [])]
        : n.pointer
          ? [n.pointer]
          : [];
    for (const p of own) {
      if (pointer !== p && !pointer.startsWith(`${p}/`)) continue;
      // the deepest match wins; on a tie a field beats the fieldset around it
      if (p.length > bestLength || (p.length === bestLength && n.kind === 'field')) {
        best = n;
        bestLength = p.length;
      }
    }
  }
  return best;
}

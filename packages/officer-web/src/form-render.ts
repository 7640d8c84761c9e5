import { type SafeHtml, html } from './html.js';
import {
  type ChoiceNode,
  type FieldNode,
  type FormNode,
  type GroupNode,
  type PostedForm,
  type SchemaForm,
  humanize,
} from './schema-form.js';

/** What a decision form shows besides its fields. */
export interface FormState {
  /** The values posted last (shown again after a refusal). */
  posted?: PostedForm;
  /** Error sentences by node id, shown next to the field or fieldset. */
  errors?: ReadonlyMap<string, readonly string[]>;
  /** Error sentences about the whole input or the action, shown above the fields. */
  formErrors?: readonly string[];
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * The fields of a schema form, accessible: every control has a `<label>`, hints and errors are tied to it
 * with `aria-describedby`, a field in error is `aria-invalid`, required ones are `aria-required` and
 * marked, groups are `<fieldset>`s with a `<legend>`, choices are radio groups, and everything is reached
 * with the keyboard in reading order. The server checks the input (the form is `novalidate`), so that its
 * errors are shown beside the fields they name.
 */
export function renderFormFields(form: SchemaForm, state: FormState = {}): SafeHtml {
  const posted = state.posted ?? {};
  const errorsOf = (id: string): readonly string[] => state.errors?.get(id) ?? [];
  const described = (id: string, hint: boolean, errors: boolean): string =>
    [hint ? `${id}-hint` : '', errors ? `${id}-error` : ''].filter(Boolean).join(' ');
  const hintOf = (n: FormNode): SafeHtml | string =>
    n.hint ? html`<p class="hint" id="${n.id}-hint">${n.hint}</p>` : '';
  const errorOf = (id: string): SafeHtml | string => {
    const errors = errorsOf(id);
    return errors.length > 0
      ? html`<p class="field-error" id="${id}-error">
          ${errors.map((e, i) => html`${i ? html`<br />` : ''}${e}`)}
        </p>`
      : '';
  };
  const marker = (required: boolean): SafeHtml | string =>
    required ? html`<span class="required" aria-hidden="true"> *</span>` : '';

  const field = (n: FieldNode): SafeHtml => {
    const value = one(posted[n.name]);
    const invalid = errorsOf(n.id).length > 0;
    const describedBy = described(n.id, Boolean(n.hint), invalid);
    const common = html`id="${n.id}"
    name="${n.name}"${describedBy ? html` aria-describedby="${describedBy}"` : ''}${
      invalid ? html` aria-invalid="true"` : ''
    }${n.required ? html` aria-required="true"` : ''}`;
    if (n.control === 'checkbox') {
      return html`<div class="field checkbox">
        <input type="checkbox" ${common}${value !== undefined ? html` checked` : ''} />
        <label for="${n.id}">${n.label}${marker(n.required)}</label>${hintOf(n)}${errorOf(n.id)}
      </div>`;
    }
    let control: SafeHtml;
    switch (n.control) {
      case 'select':
        control = html`<select ${common}>
          <option value="">Choose…</option>
          ${(n.options ?? []).map(
            (o) => html`<option value="${o}" ${o === value ? html` selected` : ''}>${o}</option>`,
          )}
        </select>`;
        break;
      case 'json':
        control = html`<textarea ${common} rows="4" spellcheck="false">${value ?? ''}</textarea>`;
        break;
      default: {
        const type = n.control === 'date' ? 'date' : 'text';
        const mode =
          n.control === 'integer'
            ? html` inputmode="numeric"`
            : n.control === 'number'
              ? html` inputmode="decimal"`
              : '';
        control = html`<input type="${type}" ${common}${mode} value="${value ?? ''}" autocomplete="off" />`;
      }
    }
    return html`<div class="field">
      <label for="${n.id}">${n.label}${marker(n.required)}</label>${hintOf(n)} ${control}${errorOf(n.id)}
    </div>`;
  };

  const group = (n: GroupNode, root: boolean): SafeHtml => {
    const children = n.children.map(render);
    if (root) return html`${children}`;
    return html`<fieldset
      id="${n.id}"
      ${errorsOf(n.id).length ? html` aria-describedby="${n.id}-error"` : ''}
    >
      <legend>${n.label}${marker(n.required)}</legend>
      ${hintOf(n)}${errorOf(n.id)}${children}
    </fieldset>`;
  };

  const choice = (n: ChoiceNode): SafeHtml => {
    const chosen = one(posted[n.name]);
    const invalid = errorsOf(n.id).length > 0;
    return html`<fieldset
      id="${n.id}"
      class="choice"
      ${invalid ? html` aria-describedby="${n.id}-error"` : ''}
    >
      <legend>${n.pointer ? `${n.label}: ` : ''}${humanize(n.discriminator)}${marker(true)}</legend>
      ${hintOf(n)}${errorOf(n.id)}
      <div class="radios">
        ${n.branches.map(
          (b) =>
            html`<div class="radio">
              <input
                type="radio"
                id="${n.id}-${b.value}"
                name="${n.name}"
                value="${b.value}"
                ${b.value === chosen ? html` checked` : ''}${invalid ? html` aria-invalid="true"` : ''}
              />
              <label for="${n.id}-${b.value}">${b.label}</label>
            </div>`,
        )}
      </div>
      ${n.branches
        .filter((b) => b.group.children.length > 0)
        .map(
          (b) =>
            html`<fieldset class="branch" id="${b.group.id}">
              <legend>If ${b.label.toLowerCase()}</legend>
              ${b.group.children.map(render)}
            </fieldset>`,
        )}
    </fieldset>`;
  };

  const render = (n: FormNode): SafeHtml =>
    n.kind === 'field' ? field(n) : n.kind === 'group' ? group(n, false) : choice(n);

  const root = form.root;
  return root.kind === 'group' ? group(root, true) : render(root);
}

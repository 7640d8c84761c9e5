/** Markup built by {@link html}: interpolated as it is; every other value is escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Escapes text for element content and for quoted attribute values (the five HTML specials and the
 * backtick, which old parsers took as an attribute quote).
 *
 * @example
 * ```ts
 * escapeHtml('<b>"x"</b>'); // '&lt;b&gt;&quot;x&quot;&lt;/b&gt;'
 * ```
 */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

/** What a template may interpolate. `false`, `null` and `undefined` render nothing. */
export type HtmlPart = SafeHtml | string | number | boolean | null | undefined | readonly HtmlPart[];

function render(part: HtmlPart): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return (part as readonly HtmlPart[]).map(render).join('');
  return escapeHtml(part);
}

/**
 * Tagged template of every page: each interpolated value is escaped unless it is itself the result of
 * `html`, so what a dossier holds (names, addresses typed by an employer) never becomes markup. Values
 * go in element content or in double-quoted attribute values only, never in an unquoted attribute, a URL
 * scheme position, a `<script>` or a `style`.
 *
 * @example
 * ```ts
 * html`<td>${item.dossierId}</td>`;
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: HtmlPart[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

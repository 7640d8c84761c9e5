/** Markup already escaped (built by {@link html}); anything else interpolated is escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string);
}

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return (part as readonly Part[]).map(render).join('');
  return escapeHtml(part);
}

/**
 * Tagged template for the viewer's markup: every interpolated value is escaped unless it is itself the
 * result of `html` — so ledger data (ids, types, reasons from an uploaded file) can never become markup.
 *
 * @example
 * ```ts
 * html`<td>${entry.meta.type}</td>`;
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** The page frame: one stylesheet and one script, both from this server (the CSP allows nothing else). */
export function page(title: string, body: SafeHtml, options: { nav?: boolean } = {}): string {
  const nav = options.nav !== false;
  return `<!doctype html>${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Passerelle audit</title>
        <link rel="stylesheet" href="/static/viewer.css" />
        <script src="/static/viewer.js" defer></script>
      </head>
      <body>
        <header>
          <a class="brand" href="/">Passerelle audit ledger</a>${
            nav
              ? html`<nav><a href="/">Ledger</a> <a href="/export">Check an export</a></nav>
                  <form class="search" method="get" action="/dossier" role="search">
                    <label
                      >Dossier id <input name="id" required pattern="[A-Za-z0-9-]{8,64}" autocomplete="off"
                    /></label>
                    <button type="submit">Show timeline</button>
                  </form>`
              : ''
          }
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
        <footer>
          Read-only view of the LEDGER stream: meta, hashes and signatures only. No payload is held or shown.
        </footer>
      </body>
    </html>`.value
  }`;
}

/** A status badge: ✓ / ✗ / a neutral word. */
export function badge(state: 'ok' | 'fail' | 'pending', label: string, title?: string): SafeHtml {
  const mark = state === 'ok' ? '✓' : state === 'fail' ? '✗' : '…';
  return html`<span class="badge ${state}" data-state="${state}" ${title ? html` title="${title}"` : ''}
    >${mark} ${label}</span
  >`;
}

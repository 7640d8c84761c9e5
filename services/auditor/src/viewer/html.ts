import { SafeHtml, escapeHtml, html } from '@passerelle/officer-web';

// The viewer escapes and builds its markup as the officers' page does: one tagged template for both.
export { SafeHtml, escapeHtml, html };

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

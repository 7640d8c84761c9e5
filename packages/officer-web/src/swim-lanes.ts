import { type SafeHtml, html } from './html.js';
import type { TimelineEntry } from './timeline.js';

const LANE_WIDTH = 170;
const TIME_WIDTH = 150;
const HEAD = 56;
const ROW = 52;

/** `2027-03-01T09:15:02.123Z` → `2027-03-01 09:15:02` (UTC, as stored). */
export function shortTime(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso;
}

/**
 * The lanes of a timeline: one per body that sent or received one of its messages, in the order they
 * first appear, with the hosted id whose view it is first.
 */
export function lanesOf(entries: readonly TimelineEntry[], self: string): string[] {
  const lanes = [self];
  for (const e of entries) for (const p of [e.sender, e.recipient]) if (!lanes.includes(p)) lanes.push(p);
  return lanes;
}

/**
 * A dossier's timeline as a swim-lane diagram, server-rendered SVG: a lane per body, and per message, in
 * time order, an arrow from its sender's lane to its recipient's, named by its type, with the time it was
 * issued on the left and its receipt (a mark on the recipient's lane, and the time it was received) when
 * one came back. Styled by the page's stylesheet (classes only: the CSP allows no inline style), with a
 * title and a description for screen readers; the page puts the same facts in a table beside it.
 *
 * @example
 * ```ts
 * swimLanes(await timeline('region-bruxelles', dossierId), 'region-bruxelles');
 * ```
 */
export function swimLanes(
  entries: readonly TimelineEntry[],
  self: string,
  titleId = 'timeline-title',
): SafeHtml {
  const lanes = lanesOf(entries, self);
  const width = TIME_WIDTH + lanes.length * LANE_WIDTH;
  const height = HEAD + Math.max(1, entries.length) * ROW + 16;
  const x = (p: string): number => TIME_WIDTH + lanes.indexOf(p) * LANE_WIDTH + LANE_WIDTH / 2;
  const receipted = entries.filter((e) => e.receipt).length;
  return html`<svg
    class="swim-lanes"
    xmlns="http://www.w3.org/2000/svg"
    viewBox="0 0 ${width} ${height}"
    width="${width}"
    height="${height}"
    role="img"
    aria-labelledby="${titleId} ${titleId}-desc"
  >
    <title id="${titleId}">Timeline of the dossier, one lane per body</title>
    <desc id="${titleId}-desc">
      ${entries.length} messages between ${lanes.length} bodies, ${receipted} with a receipt; the table below
      lists the same messages.
    </desc>
    <defs>
      <marker
        id="arrow"
        viewBox="0 0 10 10"
        refX="9"
        refY="5"
        markerWidth="8"
        markerHeight="8"
        orient="auto-start-reverse"
      >
        <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
      </marker>
    </defs>
    ${lanes.map(
      (lane, i) =>
        html`<g class="lane${lane === self ? ' self' : ''}" data-lane="${lane}">
          <rect
            x="${TIME_WIDTH + i * LANE_WIDTH + 4}"
            y="4"
            width="${LANE_WIDTH - 8}"
            height="${height - 8}"
            rx="6"
          />
          <text x="${x(lane)}" y="28" text-anchor="middle" class="lane-name">${lane}</text>
          ${lane === self ? html`<text x="${x(lane)}" y="44" text-anchor="middle" class="lane-note">this body</text>` : ''}
        </g>`,
    )}
    ${
      entries.length === 0
        ? html`<text x="${TIME_WIDTH}" y="${HEAD + 24}" class="empty">No message of this dossier yet.</text>`
        : ''
    }
    ${entries.map((e, i) => {
      const y = HEAD + i * ROW + 30;
      const from = x(e.sender);
      const to = x(e.recipient);
      const direction = to >= from ? 1 : -1;
      return html`<g
        class="message"
        data-type="${e.type}"
        data-sender="${e.sender}"
        data-recipient="${e.recipient}"
      >
        <title>
          ${e.type}: ${e.sender} → ${e.recipient},
          ${shortTime(e.issuedAt)}${
            e.receipt ? `, receipt ${shortTime(e.receipt.receivedAt)}` : ', no receipt yet'
          }
        </title>
        <text x="8" y="${y + 4}" class="time">${shortTime(e.issuedAt)}</text>
        <line
          x1="${from + direction * 6}"
          y1="${y}"
          x2="${to - direction * 8}"
          y2="${y}"
          class="arrow"
          marker-end="url(#arrow)"
        />
        <text x="${(from + to) / 2}" y="${y - 7}" text-anchor="middle" class="type">${e.type}</text>
        ${
          e.receipt
            ? html`<g class="receipt" data-received-at="${e.receipt.receivedAt}">
                <circle cx="${to}" cy="${y}" r="5" />
                <text x="${to}" y="${y + 17}" text-anchor="middle" class="receipt-time"
                  >receipt ${shortTime(e.receipt.receivedAt).slice(11)}</text
                >
              </g>`
            : ''
        }
      </g>`;
    })}
  </svg>`;
}

import type { ActionDescriptor, DossierRecord, TakenAction } from '@passerelle/procedure';
import type { DeskWorkItem } from './desk.js';
import { type FormState, renderFormFields } from './form-render.js';
import { type SafeHtml, html } from './html.js';
import type { SchemaForm } from './schema-form.js';
import type { OfficerSession } from './sessions.js';
import { shortTime, swimLanes } from './swim-lanes.js';
import type { TimelineEntry } from './timeline.js';

/** What every page's frame needs: where the page is mounted, the body, who is signed in. */
export interface PageContext {
  /** The path prefix of the page's routes (`''` at the root). */
  base: string;
  /** The body's service name (`regional-authority`). */
  service: string;
  session?: OfficerSession;
  /** The anti-forgery token of the forms on this page. */
  csrf: string;
}

const seg = encodeURIComponent;

/** The dossier page's path. */
export function dossierPath(base: string, participant: string, dossierId: string): string {
  return `${base}/dossiers/${seg(participant)}/${seg(dossierId)}`;
}

/** The frame of every page: one stylesheet from this origin, no script. */
export function layout(ctx: PageContext, title: string, body: SafeHtml): string {
  return `<!doctype html>${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title} · ${ctx.service} · Passerelle</title>
        <link rel="stylesheet" href="${ctx.base}/static/officer.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to the content</a>
        <header>
          <span class="brand">Passerelle · ${ctx.service}</span>
          ${
            ctx.session
              ? html`<nav aria-label="Main"><a href="${ctx.base}/">Worklist</a></nav>
                  <span>Signed in as <span class="mono" id="officer-id">${ctx.session.officerId}</span></span>
                  <form method="post" action="${ctx.base}/sign-out">
                    <input type="hidden" name="_csrf" value="${ctx.csrf}" />
                    <button type="submit">Sign out</button>
                  </form>`
              : ''
          }
        </header>
        <main id="main" tabindex="-1">
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`.value
  }`;
}

/** The sign-in page, with the refusal of a previous attempt if any. */
export function signInPage(ctx: PageContext, refused?: string): string {
  return layout(
    ctx,
    'Sign in',
    html`${
        refused
          ? html`<p class="notice bad" role="alert" id="sign-in-error" data-code="ERR_OFFICER_SIGN_IN_FAILED">
              ${refused}
            </p>`
          : ''
      }
      <form class="sign-in" method="post" action="${ctx.base}/sign-in" novalidate>
        <input type="hidden" name="_csrf" value="${ctx.csrf}" />
        <div class="field">
          <label for="officer-id-input">Officer id</label>
          <p class="hint" id="officer-id-hint">Your pseudonymous id, such as off-3f9a27c1.</p>
          <input
            type="text"
            id="officer-id-input"
            name="officerId"
            autocomplete="username"
            aria-describedby="officer-id-hint"
            aria-required="true"
            spellcheck="false"
          />
        </div>
        <div class="field">
          <label for="password-input">Password</label>
          <input
            type="password"
            id="password-input"
            name="password"
            autocomplete="current-password"
            aria-required="true"
          />
        </div>
        <button type="submit" class="primary">Sign in</button>
      </form>`,
  );
}

function daysLeft(item: DeskWorkItem): SafeHtml | string {
  const d = item.workingDaysLeft;
  if (d === undefined) return html`<span class="muted">no legal deadline</span>`;
  if (d < 0) return html`<span class="overdue">${-d} working day${d === -1 ? '' : 's'} overdue</span>`;
  if (d === 0) return html`<span class="today">due today</span>`;
  return `${d} working day${d === 1 ? '' : 's'}`;
}

/** The worklist: every action the officer's bodies owe, soonest legal deadline first. */
export function worklistPage(
  ctx: PageContext,
  items: readonly DeskWorkItem[],
  titles: ReadonlyMap<string, string>,
  participants: readonly string[],
): string {
  return layout(
    ctx,
    'Worklist',
    html`<table id="worklist">
        <caption>
          Actions owed by ${participants.join(', ')}, the soonest legal deadline first (${items.length})
        </caption>
        <thead>
          <tr>
            <th scope="col">Dossier</th>
            <th scope="col">For</th>
            <th scope="col">Phase</th>
            <th scope="col">Action owed</th>
            <th scope="col">Legal deadline</th>
            <th scope="col">Working days left</th>
          </tr>
        </thead>
        <tbody>
          ${
            items.length === 0
              ? html`<tr>
                  <td colspan="6">Nothing is owed now.</td>
                </tr>`
              : items.map(
                  (i) =>
                    html`<tr data-dossier="${i.dossierId}" data-action="${i.action}">
                      <td class="mono">
                        <a href="${dossierPath(ctx.base, i.participant, i.dossierId)}">${i.dossierId}</a>
                      </td>
                      <td>${i.participant}</td>
                      <td>${i.phase}</td>
                      <td>${titles.get(i.action) ?? i.action}</td>
                      <td>${i.deadline ? html`<time datetime="${i.deadline}">${i.deadline}</time>` : '—'}</td>
                      <td>${daysLeft(i)}</td>
                    </tr>`,
                )
          }
        </tbody>
      </table>
      <h2>Open a dossier</h2>
      <form class="open" method="get" action="${ctx.base}/dossiers">
        ${
          participants.length > 1
            ? html`<div class="field">
                <label for="open-participant">For</label>
                <select id="open-participant" name="participant">
                  ${participants.map((p) => html`<option value="${p}">${p}</option>`)}
                </select>
              </div>`
            : html`<input type="hidden" name="participant" value="${participants[0] ?? ''}" />`
        }
        <div class="field">
          <label for="open-id">Dossier id</label>
          <input type="text" id="open-id" name="id" autocomplete="off" spellcheck="false" />
        </div>
        <button type="submit" class="primary">Open</button>
      </form>`,
  );
}

/** One decision form of the dossier page. */
export interface DecisionForm {
  action: ActionDescriptor;
  form: SchemaForm;
  /** The step id the form posts: a form sent twice records its decision once. */
  stepId: string;
  state?: FormState;
}

/** A value the dossier holds, as nested lists (escaped). */
function record(value: unknown, depth = 0): SafeHtml {
  if (value === null || typeof value !== 'object') return html`${String(value)}`;
  if (depth > 6) return html`…`;
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i + 1), v] as const)
    : Object.entries(value as Record<string, unknown>);
  return html`<dl class="facts">
    ${entries.map(
      ([k, v]) =>
        html`<dt>${k}</dt>
          <dd>${record(v, depth + 1)}</dd>`,
    )}
  </dl>`;
}

/** The dossier page: its phase, its timeline, the decisions taken, and a form per action it accepts now. */
export function dossierPage(
  ctx: PageContext,
  view: {
    participant: string;
    dossierId: string;
    dossier: DossierRecord | undefined;
    timeline: readonly TimelineEntry[] | undefined;
    forms: readonly DecisionForm[];
    titles: ReadonlyMap<string, string>;
    recorded?: string;
  },
): string {
  const { participant, dossierId, dossier } = view;
  const actionPath = (action: string): string =>
    `${dossierPath(ctx.base, participant, dossierId)}/actions/${seg(action)}`;
  return layout(
    ctx,
    `Dossier ${dossierId}`,
    html`${
        view.recorded
          ? html`<p class="notice ok" role="status" id="recorded">
              Recorded: ${view.titles.get(view.recorded) ?? view.recorded}.
            </p>`
          : ''
      }
      <dl class="facts" id="dossier-facts">
        <dt>For</dt>
        <dd>${participant}</dd>
        <dt>Phase</dt>
        <dd id="phase">${dossier?.phase ?? 'not known here yet'}</dd>
      </dl>
      <h2 id="timeline-heading">Timeline</h2>
      ${timelineSection(view.timeline, participant)}
      <h2>Decisions taken</h2>
      ${takenTable(dossier?.taken ?? [], view.titles)}
      <h2>Decide</h2>
      ${view.forms.length === 0 ? html`<p id="no-action">No action is open on this dossier now.</p>` : ''}
      ${view.forms.map((f) => decisionFormHtml(ctx, f, actionPath(f.action.name)))}
      <details>
        <summary>What this body holds of the dossier</summary>
        ${dossier ? record(dossier) : html`<p>Nothing yet.</p>`}
      </details>`,
  );
}

/** A table's header row, each cell a column header for screen readers. */
function tableHead(columns: readonly string[]): SafeHtml {
  return html`<thead>
    <tr>
      ${columns.map((c) => html`<th scope="col">${c}</th>`)}
    </tr>
  </thead>`;
}

/** The timeline as swim lanes and as a table (for screen readers), or a notice when it cannot be read. */
function timelineSection(timeline: readonly TimelineEntry[] | undefined, participant: string): SafeHtml {
  return timeline
    ? html`<div class="timeline" id="timeline">${swimLanes(timeline, participant)}</div>
        <table id="timeline-table">
          <caption>
            The timeline as a table: what this body sent and received of the dossier
          </caption>
          ${tableHead(['Issued (UTC)', 'Message', 'From', 'To', 'Receipt'])}
          <tbody>
            ${timeline.map(
              (e) =>
                html`<tr>
                  <td class="mono">${shortTime(e.issuedAt)}</td>
                  <td>${e.type}</td>
                  <td>${e.sender}</td>
                  <td>${e.recipient}</td>
                  <td>${e.receipt ? html`received ${shortTime(e.receipt.receivedAt)}` : 'not yet'}</td>
                </tr>`,
            )}
          </tbody>
        </table>`
    : html`<p class="notice bad">The timeline cannot be read now.</p>`;
}

/** The decisions the dossier records: the action, its day, and who took it (an officer or the policy). */
function takenTable(taken: readonly TakenAction[], titles: ReadonlyMap<string, string>): SafeHtml {
  return taken.length === 0
    ? html`<p>None yet.</p>`
    : html`<table id="taken">
        ${tableHead(['Action', 'On', 'By'])}
        <tbody>
          ${taken.map(
            (t) =>
              html`<tr>
                <td>${titles.get(t.action) ?? t.action}</td>
                <td>${t.on}</td>
                <td class="mono">
                  ${t.by ? `${t.by.officerId} (${t.by.clientId})` : t.automatic ? 'automatic policy' : '—'}
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`;
}

/** One action's decision form, with the summary of the issues of a previous attempt if any. */
function decisionFormHtml(ctx: PageContext, f: DecisionForm, actionPath: string): SafeHtml {
  const formErrors = f.state?.formErrors ?? [];
  const fieldErrors = [...(f.state?.errors?.values() ?? [])].flat();
  const any = formErrors.length + fieldErrors.length > 0;
  return html`<form
    class="decision"
    method="post"
    action="${actionPath}"
    novalidate
    aria-labelledby="${f.form.formId}-title"
    data-action="${f.action.name}"
  >
    <h3 id="${f.form.formId}-title">${f.action.title}</h3>
    ${
      any
        ? html`<div class="error-summary" role="alert" tabindex="-1" id="${f.form.formId}-errors">
            <h3>The decision was not recorded</h3>
            <ul>
              ${formErrors.map((e) => html`<li>${e}</li>`)}
              ${[...(f.state?.errors?.entries() ?? [])].flatMap(([id, errors]) =>
                errors.map((e) => html`<li><a href="#${id}">${e}</a></li>`),
              )}
            </ul>
          </div>`
        : ''
    }
    <input type="hidden" name="_csrf" value="${ctx.csrf}" />
    <input type="hidden" name="_stepId" value="${f.stepId}" />
    ${renderFormFields(f.form, f.state ?? {})}
    <button type="submit" class="primary">Record: ${f.action.name}</button>
  </form>`;
}

/** A page that says what went wrong, with its code, and where to go on. */
export function errorPage(ctx: PageContext, title: string, message: string, code?: string): string {
  return layout(
    ctx,
    title,
    html`<p class="notice bad" role="alert" ${code ? html` data-code="${code}"` : ''}>${message}</p>
      <p><a href="${ctx.base}/">Back to the worklist</a></p>`,
  );
}

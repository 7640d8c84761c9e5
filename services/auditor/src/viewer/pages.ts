import type { CheckResult, CheckpointCheck } from '../entry-checks.js';
import type { ExportCheck } from '../export-check.js';
import type { RecorderStats } from '../recorder.js';
import type { DossierTimeline, EntryStatus, TimelineReceipt } from '../timeline.js';
import { type SafeHtml, badge, html, page } from './html.js';

/** What the home page shows about the ledger. */
export interface LedgerOverview {
  lastSeq: number;
  checkpoints: number;
  envelopes: number;
  receipts: number;
  chainBreak?: { seq: number; reason: string };
  lastCheckpoint?: CheckpointCheck;
  uncheckpointed: number;
  recorder?: RecorderStats;
  /** Inputs the auditor refused, kept in DEADLETTER on `pex.dlq.auditor` (all time). */
  refused?: number;
}

function check(label: string, r: CheckResult): SafeHtml {
  return badge(r.ok ? 'ok' : 'fail', r.ok ? label : `${label}: ${r.reason ?? 'failed'}`, r.reason);
}

function checkpointBadges(cp: CheckpointCheck | undefined): SafeHtml {
  if (!cp) return badge('pending', 'not yet in a checkpoint');
  return html`${badge('ok', `in checkpoint #${cp.seq}`)}${
    cp.ok
      ? badge('ok', 'checkpoint signature valid')
      : badge('fail', `checkpoint #${cp.seq} invalid: ${cp.reason ?? 'failed'}`)
  }`;
}

function statusBadges(s: EntryStatus, signatureLabel: string): SafeHtml {
  return html`${check('chain intact', s.chain)}${check(signatureLabel, s.signature)}${checkpointBadges(
    s.checkpoint,
  )}`;
}

function receiptRow(r: TimelineReceipt, backTo?: string): SafeHtml {
  const orphan = backTo === undefined;
  return html`<tr class="receipt" data-seq="${r.seq}" data-kind="receipt">
    <td>${r.seq}</td>
    <td>${orphan ? 'receipt (envelope not recorded)' : '↳ receipt'}</td>
    <td>${r.receiver}</td>
    <td>${r.receivedAt}</td>
    <td>${r.recordedAt}</td>
    <td>
      ${statusBadges(r, 'receipt signature valid')}${
        orphan
          ? ''
          : r.matchesEnvelope
            ? badge('ok', 'names the recorded envelope')
            : badge('fail', 'names other envelope bytes')
      }
    </td>
    <td></td>
  </tr>`;
}

/** The dossier timeline page. */
export function timelinePage(t: DossierTimeline): string {
  if (t.messages.length === 0 && t.orphanReceipts.length === 0) {
    return page(
      `Dossier ${t.dossierId}`,
      html`<p class="muted" id="no-messages">The ledger holds no message for this dossier.</p>`,
    );
  }
  const allOk = [...t.messages, ...t.messages.flatMap((m) => m.receipts), ...t.orphanReceipts].every(
    (s) => s.chain.ok && s.signature.ok && (!s.checkpoint || s.checkpoint.ok),
  );
  const pending = [...t.messages, ...t.messages.flatMap((m) => m.receipts)].filter(
    (s) => !s.checkpoint,
  ).length;
  const rows = t.messages.map(
    (m) =>
      html`<tr class="message" data-seq="${m.seq}" data-kind="envelope" data-message-id="${m.messageId}">
          <td>${m.seq}</td>
          <td>
            <strong>${m.type}</strong> <span class="muted">v${m.schemaVersion}</span><br /><span class="mono"
              >${m.messageId}</span
            >
          </td>
          <td>${m.sender} → ${m.recipient}</td>
          <td>${m.issuedAt}</td>
          <td>${m.recordedAt}</td>
          <td>
            ${statusBadges(m, 'seal valid')}${
              m.receipts.length === 0 ? badge('pending', 'no receipt recorded') : ''
            }
          </td>
          <td>
            ${
              m.checkpoint
                ? html`<a class="proof" href="/proof/${encodeURIComponent(m.messageId)}" download
                    >inclusion proof</a
                  >`
                : html`<span class="muted">after the next checkpoint</span>`
            }
          </td>
        </tr>
        ${m.receipts.map((r) => receiptRow(r, m.sender))}`,
  );
  return page(
    `Dossier ${t.dossierId}`,
    html`<div class="verdict ${allOk ? 'ok' : 'fail'}" id="dossier-verdict">
        ${
          allOk
            ? `All ${t.messages.length} messages and their receipts verify${pending ? ` (${pending} entries wait for the next checkpoint)` : ''}.`
            : 'Some entries of this dossier do not verify: see the red marks below.'
        }
      </div>
      <table id="timeline">
        <thead>
          <tr>
            <th>Entry</th>
            <th>Message</th>
            <th>From → to</th>
            <th>Issued / received</th>
            <th>Recorded</th>
            <th>Verification</th>
            <th>Proof</th>
          </tr>
        </thead>
        <tbody>
          ${rows} ${t.orphanReceipts.map((r) => receiptRow(r))}
        </tbody>
      </table>
      <p class="muted">
        Times are UTC. The ledger holds meta, hashes and signatures; payloads stay end-to-end encrypted
        between participants.
      </p>`,
  );
}

/** The home page: ledger state and the way to a dossier. */
export function homePage(o: LedgerOverview): string {
  const cp = o.lastCheckpoint;
  return page(
    'Ledger',
    html`<dl class="facts" id="ledger-facts">
        <dt>Entries</dt>
        <dd>${o.lastSeq}</dd>
        <dt>Envelopes and receipts</dt>
        <dd>${o.envelopes} envelopes, ${o.receipts} receipts</dd>
        <dt>Hash chain</dt>
        <dd>
          ${
            o.chainBreak
              ? badge('fail', `broken at entry ${o.chainBreak.seq}: ${o.chainBreak.reason}`)
              : badge('ok', `intact over ${o.lastSeq} entries`)
          }
        </dd>
        <dt>Checkpoints</dt>
        <dd>${o.checkpoints}</dd>
        <dt>Last checkpoint</dt>
        <dd>
          ${
            cp
              ? html`#${cp.seq} over ${cp.firstSeq}..${cp.lastSeq} at ${cp.issuedAt}
                  ${
                    cp.ok
                      ? badge('ok', 'signature and Merkle root valid')
                      : badge('fail', cp.reason ?? 'invalid')
                  }<br /><span class="mono">root ${cp.root}</span>`
              : html`<span class="muted">none yet</span>`
          }
        </dd>
        <dt>Waiting for a checkpoint</dt>
        <dd>${o.uncheckpointed} entries</dd>
        ${
          o.recorder
            ? html`<dt>Recorded since start</dt>
                <dd>
                  ${o.recorder.envelopes} envelopes, ${o.recorder.receipts} receipts, ${o.recorder.duplicates}
                  duplicates ignored (of which ${o.recorder.replays} envelopes stored again after their
                  receipt), ${o.recorder.deadLettered} refused (DEADLETTER)
                </dd>`
            : ''
        }
      </dl>
      ${
        o.refused !== undefined
          ? html`<p id="refused">
              Refused inputs kept in DEADLETTER (pex.dlq.auditor): <strong>${o.refused}</strong>${
                o.refused > 0
                  ? html` ${badge('fail', 'inspect them')} with
                      <code>passerelle dlq list --participant auditor</code>`
                  : ''
              }
            </p>`
          : ''
      }
      <p>
        Search a dossier id above to see its timeline, or <a href="/export">check a ledger export file</a>.
      </p>`,
  );
}

/** The export check page: upload form, and the result of the configured or uploaded file. */
export function exportPage(result: ExportCheck | undefined, configured: boolean): string {
  const form = html`<h2>Check an export file</h2>
    <form id="upload-form">
      <label
        >Ledger export (JSON Lines from <code>passerelle audit export</code>)
        <input type="file" id="export-file" name="file" accept=".jsonl,.json,.txt,application/x-ndjson"
      /></label>
      <button type="submit">Verify</button> <span id="upload-status" role="status"></span>
    </form>`;
  if (!result) {
    return page(
      'Ledger export',
      html`${configured ? html`<p class="error">The configured export file cannot be read.</p>` : ''}${form}`,
    );
  }
  return page(`Ledger export ${result.name}`, html`${exportResult(result)}${form}`);
}

function exportResult(r: ExportCheck): SafeHtml {
  if (r.error) {
    return html`<div class="verdict fail" id="export-verdict">
      Not a ledger export: ${r.error.code} — ${r.error.reason}
    </div>`;
  }
  const rep = r.report;
  if (!rep || !r.header) return html``;
  const f = rep.failure;
  const e = r.failingEntry;
  return html`<div class="verdict ${rep.ok ? 'ok' : 'fail'}" id="export-verdict">
      ${
        rep.ok
          ? `Verified: ${rep.entries} entries (${rep.firstSeq}..${rep.lastSeq}), chain, seals, receipts and checkpoints valid.`
          : `Verification failed at entry ${f?.seq}: ${f?.code} — ${f?.reason}`
      }
    </div>
    <dl class="facts" id="export-facts">
      <dt>File</dt>
      <dd>${r.name}</dd>
      <dt>Exported at</dt>
      <dd>${r.header.exportedAt}</dd>
      <dt>First entry</dt>
      <dd>${r.header.from}</dd>
      <dt>Entries read</dt>
      <dd>
        ${rep.entries} (${rep.envelopes} envelopes, ${rep.receipts} receipts, ${rep.checkpoints} checkpoints)
      </dd>
      <dt>Not yet under a checkpoint</dt>
      <dd>${rep.uncheckpointed}</dd>
      <dt>Head hash</dt>
      <dd class="mono">${rep.headHash}</dd>
      <dt>Checked at</dt>
      <dd>${r.checkedAt}</dd>
    </dl>
    ${
      f
        ? html`<h2>Failing entry</h2>
            <table id="failing-entry">
              <tbody>
                ${failingRow('Entry', f.seq)} ${failingRow('Code', f.code)} ${failingRow('Reason', f.reason)}
                ${
                  e
                    ? html`${entryRow('Kind', e.kind ?? '')} ${e.type ? entryRow('Type', e.type) : ''}
                      ${e.messageId ? entryRow('Message id', e.messageId, 'mono') : ''}
                      ${e.sender ? entryRow('Signed by', e.sender) : ''}
                      ${e.dossierId ? entryRow('Dossier', e.dossierId) : ''}`
                    : entryRow('Content', 'the line does not parse as an entry', 'muted')
                }
              </tbody>
            </table>`
        : ''
    }`;
}

/** A row of the failing entry's table: what the verification says of it. */
function failingRow(label: string, value: string | number): SafeHtml {
  return html`<tr class="failing">
    <th>${label}</th>
    <td>${value}</td>
  </tr>`;
}

/** A row of the failing entry's table: what its line says, the value in a cell of class `cellClass` if given. */
function entryRow(label: string, value: string, cellClass?: string): SafeHtml {
  return cellClass
    ? html`<tr>
        <th>${label}</th>
        <td class="${cellClass}">${value}</td>
      </tr>`
    : html`<tr>
        <th>${label}</th>
        <td>${value}</td>
      </tr>`;
}

/** The page a request without the token gets (status 401): the token login form. */
export function loginPage(message?: string): string {
  return page(
    'Token required',
    html`<form class="login" method="post" action="/login">
      <p>This viewer is for security officers. Enter the viewer token (see the auditor's configuration).</p>
      ${message ? html`<p class="error" id="login-error">${message}</p>` : ''}
      <label>Token <input type="password" name="token" autocomplete="current-password" required /></label>
      <button type="submit">Open the ledger</button>
    </form>`,
    { nav: false },
  );
}

/** A short error page. */
export function errorPage(title: string, message: string): string {
  return page(title, html`<p class="error" id="error-message">${message}</p>`);
}

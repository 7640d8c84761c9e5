/** The viewer's stylesheet (served from this origin: the CSP forbids inline styles). */
export const VIEWER_CSS = `
:root { color-scheme: light; --ok: #16623a; --fail: #a4161a; --muted: #5c6370; --line: #d8dce3; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { background: #12355b; color: #fff; padding: 0.6rem 1.2rem; display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
header a { color: #fff; text-decoration: none; margin-right: 0.8rem; }
header .brand { font-weight: 700; }
header form.search { margin-left: auto; }
header input { padding: 0.25rem 0.4rem; }
main { padding: 1rem 1.2rem; max-width: 1200px; }
footer { color: var(--muted); font-size: 0.85rem; padding: 1rem 1.2rem; }
h1 { font-size: 1.35rem; margin: 0.2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 0.6rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid var(--line); padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.mono, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 0.85rem; word-break: break-all; }
.badge { display: inline-block; border-radius: 3px; padding: 0 0.35rem; margin: 0 0.2rem 0.2rem 0; font-size: 0.85rem; white-space: nowrap; }
.badge.ok { background: #dff3e6; color: var(--ok); }
.badge.fail { background: #fbe1e1; color: var(--fail); font-weight: 700; }
.badge.pending { background: #eceff3; color: var(--muted); }
.verdict { padding: 0.7rem 1rem; border-radius: 4px; margin-bottom: 1rem; font-weight: 600; }
.verdict.ok { background: #dff3e6; color: var(--ok); }
.verdict.fail { background: #fbe1e1; color: var(--fail); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; background: #fff; padding: 0.8rem; border: 1px solid var(--line); }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
tr.receipt td { background: #fafbfc; }
tr.failing td { background: #fff1f1; }
.muted { color: var(--muted); }
.error { color: var(--fail); font-weight: 600; }
form.login { background: #fff; border: 1px solid var(--line); padding: 1rem; max-width: 28rem; }
form.login input { width: 100%; padding: 0.4rem; margin: 0.4rem 0 0.8rem; }
`;

/**
 * The viewer's only script: sends an export file chosen in the upload form to the server (as the body, so no
 * multipart parsing is needed and the non-simple content type keeps other sites out), then opens the result
 * page the server rendered. Messages are set with textContent, never as markup.
 */
export const VIEWER_JS = `
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('upload-form');
  if (!form) return;
  var status = document.getElementById('upload-status');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var input = document.getElementById('export-file');
    var file = input && input.files && input.files[0];
    if (!file) { status.textContent = 'Choose an export file first.'; return; }
    status.textContent = 'Verifying ' + file.name + '…';
    fetch('/exports?name=' + encodeURIComponent(file.name), {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: file,
      credentials: 'same-origin'
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; });
    }).then(function (r) {
      if (!r.ok || !r.body.id) { status.textContent = (r.body && r.body.error) || 'The upload failed.'; return; }
      window.location.assign('/exports/' + encodeURIComponent(r.body.id));
    }).catch(function () { status.textContent = 'The upload failed.'; });
  });
});
`;

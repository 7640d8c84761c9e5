/** The page's only stylesheet, served from its own origin (the CSP allows no inline style and no script). */
export const OFFICER_CSS = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5c6370; --line: #cfd5de; --brand: #12355b; --bad: #a4161a; --ok: #16623a; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: var(--ink); background: #f6f7f9; }
a { color: var(--brand); }
:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: 0.4rem; }
.skip:focus { left: 0.5rem; }
header { background: var(--brand); color: #fff; padding: 0.6rem 1.2rem; display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
header a { color: #fff; }
header .brand { font-weight: 700; margin-right: auto; }
header form { margin: 0; }
header button { background: transparent; color: #fff; border: 1px solid #fff; padding: 0.2rem 0.6rem; cursor: pointer; }
main { padding: 1rem 1.2rem 2rem; max-width: 1200px; }
h1 { font-size: 1.4rem; margin: 0.3rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 0.6rem; }
h3 { font-size: 1.05rem; margin: 0 0 0.6rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
caption { text-align: left; color: var(--muted); padding: 0.3rem 0; }
th, td { border: 1px solid var(--line); padding: 0.4rem 0.55rem; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
.mono { font-family: ui-monospace, Menlo, monospace; font-size: 0.9rem; }
.overdue { color: var(--bad); font-weight: 700; }
.today { color: var(--warn); font-weight: 700; }
.notice { padding: 0.7rem 1rem; border-radius: 4px; margin: 0 0 1rem; }
.notice.ok { background: #dff3e6; color: var(--ok); }
.notice.bad { background: #fbe1e1; color: var(--bad); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; background: #fff; padding: 0.8rem; border: 1px solid var(--line); margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
form.decision, form.sign-in, form.open { background: #fff; border: 1px solid var(--line); padding: 1rem; margin: 0 0 1rem; max-width: 44rem; }
form.sign-in { max-width: 26rem; }
.field { margin: 0 0 0.9rem; }
.field label { display: block; font-weight: 600; }
.field.checkbox label { display: inline; }
.field input[type=text], .field input[type=date], .field input[type=password], .field select, .field textarea { width: 100%; max-width: 28rem; padding: 0.4rem; font: inherit; border: 1px solid #8a93a3; border-radius: 3px; }
[aria-invalid=true] { border-color: var(--bad) !important; outline: 1px solid var(--bad); }
.hint { color: var(--muted); margin: 0.1rem 0 0.3rem; font-size: 0.92rem; }
.field-error { color: var(--bad); font-weight: 600; margin: 0.25rem 0 0; }
.required { color: var(--bad); }
fieldset { border: 1px solid var(--line); margin: 0 0 0.9rem; padding: 0.6rem 0.9rem; }
legend { font-weight: 700; padding: 0 0.3rem; }
.radios { display: flex; gap: 1.2rem; margin: 0.3rem 0 0.8rem; }
fieldset.branch legend { font-weight: 600; color: var(--muted); }
button.primary { background: var(--brand); color: #fff; border: 0; padding: 0.5rem 1rem; font: inherit; border-radius: 3px; cursor: pointer; }
.error-summary { border: 2px solid var(--bad); padding: 0.6rem 0.9rem; margin: 0 0 1rem; }
.error-summary h3 { color: var(--bad); }
.timeline { overflow-x: auto; background: #fff; border: 1px solid var(--line); padding: 0.5rem; }
svg.swim-lanes { font: 12px system-ui, sans-serif; }
svg.swim-lanes .lane rect { fill: #f3f5f8; stroke: var(--line); }
svg.swim-lanes .lane.self rect { fill: #e6eef8; stroke: #9bb4d3; }
svg.swim-lanes .lane-name { font-weight: 700; fill: var(--ink); }
svg.swim-lanes .lane-note, svg.swim-lanes .time, svg.swim-lanes .empty { fill: var(--muted); }
svg.swim-lanes .arrow { stroke: var(--brand); stroke-width: 2; }
svg.swim-lanes .arrow-head { fill: var(--brand); }
svg.swim-lanes .type { fill: var(--ink); }
svg.swim-lanes .receipt circle { fill: var(--ok); }
svg.swim-lanes .receipt-time { fill: var(--ok); font-size: 10px; }
details { margin: 1rem 0; }
`;

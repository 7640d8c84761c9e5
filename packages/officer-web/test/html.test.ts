import { describe, expect, test } from 'vitest';
import { dossierPage, worklistPage } from '../src/pages.js';
import { SafeHtml, escapeHtml, html } from '../src/html.js';

const HOSTILE = `"><script>alert(1)</script><img src=x onerror=alert(2)>'\``;

describe('html - escaping', () => {
  test('html - every special character of an interpolated value is escaped', () => {
    expect(escapeHtml(`<a href="x" title='y'>&\``)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;',
    );
    expect(html`<td title="${HOSTILE}">${HOSTILE}</td>`.value).toBe(
      `<td title="${escapeHtml(HOSTILE)}">${escapeHtml(HOSTILE)}</td>`,
    );
  });

  test('html - markup built by html is kept, arrays are joined, false and null render nothing', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${[html`<br />`, '&']}${false}${null}${undefined}${0}</p>`.value).toBe(
      '<p><b>&lt;i&gt;</b><br />&amp;0</p>',
    );
    expect(html`${new SafeHtml('<hr />')}`.value).toBe('<hr />');
  });

  test('html - a hostile dossier, timeline and worklist never become markup on the pages', () => {
    const ctx = {
      base: '',
      service: 'commune',
      csrf: 'token',
      session: { officerId: 'off-0123abcd', participants: ['commune-21004'] },
    };
    const dossier = dossierPage(ctx, {
      participant: 'commune-21004',
      dossierId: 'D-hostile-0001',
      dossier: { phase: HOSTILE, applicant: { familyName: HOSTILE }, taken: [] } as never,
      timeline: [
        {
          messageId: HOSTILE,
          type: HOSTILE,
          sender: HOSTILE,
          recipient: 'commune-21004',
          issuedAt: HOSTILE,
          receipt: { receiver: 'commune-21004', receivedAt: HOSTILE },
        },
      ],
      forms: [],
      titles: new Map(),
    });
    const worklist = worklistPage(
      ctx,
      [
        {
          participant: 'commune-21004',
          dossierId: HOSTILE,
          phase: HOSTILE,
          action: HOSTILE,
          deadline: HOSTILE,
          workingDaysLeft: -2,
        },
      ],
      new Map(),
      ['commune-21004'],
    );
    for (const page of [dossier, worklist]) {
      expect(page).not.toContain('<script');
      expect(page).not.toContain('<img');
      expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    expect(worklist).toContain('2 working days overdue');
  });
});

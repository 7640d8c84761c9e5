import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  OfficerAccounts,
  type OfficerWebServer,
  exchangeTimeline,
  startOfficerWeb,
} from '@passerelle/officer-web';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  OE,
  REGIONS,
  type ProcedureHarness,
  ictFirstApplication,
  newDossierId,
  submit,
  today,
  useProcedure,
} from './procedure/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const results = fileURLToPath(new URL('../test-results', import.meta.url));
/** What a keyboard types into a date input in en-US: month, day, year. */
const usDate = (iso: string): string => `${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(0, 4)}`;
const REGION_OFFICER = 'off-5a1c03e9b2d4';
const OFFICE_OFFICER = 'off-9e07d2c4a1f3';
const REGION_PASSWORD = 'region-officer-passphrase-7';
const OFFICE_PASSWORD = 'office-officer-passphrase-3';

// A region's and the Immigration Office's case officers at work in Chromium, each on their body's page
// over the real services on a real nats-server: the region decides the work authorisation, the Office sees
// the dossier come to its worklist.
describe("officer web - a case officer's page in a browser", () => {
  let h: ProcedureHarness;
  useProcedure((started) => (h = started));
  let region: OfficerWebServer;
  let office: OfficerWebServer;
  let browser: BrowserContext;
  const work = mkdtempSync(join(tmpdir(), 'pex-officer-web-'));
  const profile = mkdtempSync(join(tmpdir(), 'pex-chromium-'));
  const dossierId = newDossierId('web');

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is missing at ${CHROMIUM}: the officer page's browser test needs it. Install it with ` +
          '`apt-get install -y chromium`, or run `PASSERELLE_SETUP_BROWSER=1 bash scripts/setup.sh`.',
      );
    }
    const regionAccounts = new OfficerAccounts(join(work, 'region-officers.json'));
    await regionAccounts.add(REGION_OFFICER, [...REGIONS], REGION_PASSWORD);
    const officeAccounts = new OfficerAccounts(join(work, 'office-officers.json'));
    await officeAccounts.add(OFFICE_OFFICER, [OE], OFFICE_PASSWORD);
    const definitions = h.contracts.definitions().map((d) => d.schema);
    const shared = {
      definitions,
      timeline: exchangeTimeline(h.nc),
      cookieSecret: 'officer-web-e2e-cookie-secret-0123456789',
      // plain HTTP on loopback here; Secure and __Host- cookies are checked in the package's tests
      secureCookies: false,
      port: 0,
    };
    region = await startOfficerWeb({ ...shared, desk: h.region, accounts: regionAccounts });
    office = await startOfficerWeb({ ...shared, desk: h.office, accounts: officeAccounts });
    // both decisions wait for a person
    h.overrides.work.set(dossierId, 'pending');
    h.overrides.residence.set(dossierId, 'pending');
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      // the date inputs are typed in as in en-US (month, day, year)
      locale: 'en-US',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await region?.close();
    await office?.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });

  /** Collects what the browser says of the CSP (a violation is reported on the console). */
  function watchCsp(page: Page): string[] {
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    return violations;
  }

  async function signIn(page: Page, url: string, officerId: string, password: string): Promise<void> {
    await page.goto(`${url}/`);
    await page.waitForURL(/\/sign-in$/);
    await page.getByLabel('Officer id').fill(officerId);
    await page.getByLabel('Password').fill(password);
    await Promise.all([page.waitForURL(`${url}/`), page.getByRole('button', { name: 'Sign in' }).click()]);
  }

  /** Presses Tab until the control named `name` has the focus (a date input's picker takes one stop). */
  async function tabTo(page: Page, name: string): Promise<void> {
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate('document.activeElement && document.activeElement.name')) === name) return;
    }
    throw new Error(`the keyboard does not reach ${name}`);
  }

  /** Reloads the worklist until the dossier's row for `action` is there (it comes over the exchange). */
  async function awaitRow(page: Page, action: string): Promise<void> {
    const row = page.locator(`#worklist tr[data-dossier="${dossierId}"][data-action="${action}"]`);
    await expect
      .poll(
        async () => {
          await page.reload();
          return row.count();
        },
        { timeout: 30_000, interval: 250 },
      )
      .toBe(1);
  }

  test('officer web - a wrong password is refused, and says no more than that', async () => {
    const page = await browser.newPage();
    const violations = watchCsp(page);
    await page.goto(`${region.url}/sign-in`);
    await page.getByLabel('Officer id').fill(REGION_OFFICER);
    await page.getByLabel('Password').fill('not-the-password-at-all');
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/sign-in') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    expect(answer.status()).toBe(401);
    await expect
      .poll(() => page.locator('#sign-in-error').getAttribute('data-code'))
      .toBe('ERR_OFFICER_SIGN_IN_FAILED');
    expect(await page.locator('#officer-id').count()).toBe(0);
    // still signed out: the worklist sends back to the sign-in
    await page.goto(`${region.url}/`);
    expect(page.url()).toBe(`${region.url}/sign-in`);
    expect(violations).toEqual([]);
    await page.close();
  });

  test('officer web - sign in, see the dossier arrive, decide; the Office gets it in its worklist', async () => {
    const page = await browser.newPage();
    const violations = watchCsp(page);
    const first = await page.goto(`${region.url}/sign-in`);
    const csp = first?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toMatch(/script-src/);

    await signIn(page, region.url, REGION_OFFICER, REGION_PASSWORD);
    expect(await page.innerText('#officer-id')).toBe(REGION_OFFICER);
    // the stylesheet is applied under the CSP (the header's colour comes from it)
    expect(await page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")).toBe(
      'rgb(18, 53, 91)',
    );
    expect(await page.locator(`#worklist tr[data-dossier="${dossierId}"]`).count()).toBe(0);

    await submit(h, dossierId, ictFirstApplication());
    await awaitRow(page, 'decide-work');
    await page.locator(`#worklist tr[data-dossier="${dossierId}"] a`).click();
    await page.waitForSelector('#timeline svg');
    const lanes = page.locator('#timeline svg g.lane');
    expect(await lanes.first().getAttribute('data-lane')).toBe('region-bruxelles');
    expect(await page.locator('#timeline svg g.lane[data-lane="portal-demo"]').count()).toBe(1);
    expect(
      await page
        .locator(
          '#timeline svg g.message[data-type="application-submitted"][data-sender="portal-demo"][data-recipient="region-bruxelles"]',
        )
        .count(),
    ).toBe(1);
    const form = page.locator('form[data-action="decide-work"]');

    // a form posted without its anti-forgery token is refused, and records nothing
    const action = `${region.url}/dossiers/region-bruxelles/${dossierId}/actions/decide-work`;
    const forged = await page.request.post(action, {
      form: { '/decision': 'refused', 'refused|/reason': 'other' },
      maxRedirects: 0,
    });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('ERR_CSRF_TOKEN_INVALID');
    expect((await h.region.dossier('region-bruxelles', dossierId))?.taken ?? []).toEqual([]);

    // granted without a period: the errors are shown beside the fields the problem's pointers name
    await form.getByLabel('Granted').check();
    await Promise.all([page.waitForLoadState('load'), form.getByRole('button').click()]);
    const failed = page.locator('form[data-action="decide-work"]');
    await expect.poll(() => failed.locator('.error-summary').count()).toBe(1);
    const from = failed.getByLabel('From');
    expect(await from.getAttribute('aria-invalid')).toBe('true');
    const fromError = (await from.getAttribute('aria-describedby'))
      ?.split(' ')
      .find((id) => id.endsWith('-error'));
    expect(await page.locator(`[id="${fromError}"]`).innerText()).toBe('From is required.');
    expect(await failed.getByLabel('Granted').isChecked()).toBe(true);

    // the keyboard reaches every control of the form in order, and sends it
    await failed.getByLabel('From').focus();
    await page.keyboard.type(usDate(today(40)));
    await tabTo(page, 'granted|/period/to');
    await page.keyboard.type(usDate(today(40 + 365)));
    expect(await failed.getByLabel('From').inputValue()).toBe(today(40));
    expect(await failed.getByLabel('To').inputValue()).toBe(today(40 + 365));
    await tabTo(page, '');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Record: decide-work');
    await Promise.all([page.waitForURL(/recorded=decide-work/), page.keyboard.press('Enter')]);
    expect(await page.innerText('#recorded')).toContain('Recorded');
    expect(await page.innerText('#taken')).toContain(REGION_OFFICER);
    mkdirSync(results, { recursive: true });
    await page.screenshot({ path: join(results, 'officer-web-region-dossier.png'), fullPage: true });
    const decided = await h.region.dossier('region-bruxelles', dossierId);
    expect(decided?.taken?.map((t) => [t.action, t.by?.officerId, t.by?.clientId])).toEqual([
      ['decide-work', REGION_OFFICER, 'officer-web'],
    ]);

    // the Immigration Office's officer now has the dossier to decide
    const officePage = await browser.newPage();
    const officeViolations = watchCsp(officePage);
    await signIn(officePage, office.url, OFFICE_OFFICER, OFFICE_PASSWORD);
    await awaitRow(officePage, 'decide-residence');
    await officePage.locator(`#worklist tr[data-dossier="${dossierId}"] a`).click();
    await officePage.waitForSelector('#timeline svg');
    expect(
      await officePage
        .locator(
          '#timeline svg g.message[data-type="work-authorisation-decided"][data-sender="region-bruxelles"][data-recipient="immigration-office"]',
        )
        .count(),
    ).toBe(1);
    // the receipt of the region's decision by the Office is drawn once it is in
    await expect
      .poll(
        async () => {
          await officePage.reload();
          return officePage
            .locator('#timeline svg g.message[data-type="work-authorisation-decided"] g.receipt')
            .count();
        },
        { timeout: 15_000, interval: 250 },
      )
      .toBe(1);
    await officePage.screenshot({ path: join(results, 'officer-web-office-dossier.png'), fullPage: true });
    expect(violations).toEqual([]);
    expect(officeViolations).toEqual([]);

    // signed out, the page is closed to this browser
    await Promise.all([
      page.waitForURL(/\/sign-in$/),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    await page.goto(`${region.url}/`);
    expect(page.url()).toBe(`${region.url}/sign-in`);
    await page.close();
    await officePage.close();
  }, 120_000);
});

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InclusionProof, checkProof, readLedger, writeLedgerExport } from '@passerelle/audit';
import { toPublicJwk } from '@passerelle/envelope';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OFFICE, POST, REGION, repoRoot } from './fixtures.js';
import { useParticipants, useRecordedDossier } from './participants-hook.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'e2e-viewer-token-5b8d0c1f3a';
const DOSSIER = 'DOS-2026-E2E-0417';
const results = join(repoRoot, 'test-results');

describe('auditor viewer in a browser', () => {
  const net = useParticipants();
  // before any dossier is seeded: without the browser there is nothing to test
  beforeAll(() => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is missing at ${CHROMIUM}: the viewer's browser test needs it. Install it with ` +
          '`apt-get install -y chromium`, or run `PASSERELLE_SETUP_BROWSER=1 bash scripts/setup.sh`.',
      );
    }
  });
  const recorded = useRecordedDossier(
    net,
    DOSSIER,
    { familyName: 'Mertens', givenNames: 'Ines', passportNumber: 'EQ3141592' },
    { checkpointEvery: 5, viewer: { token: TOKEN, port: 0 } },
  );
  let browser: BrowserContext;
  const profile = mkdtempSync(join(tmpdir(), 'pex-chromium-'));
  const work = mkdtempSync(join(tmpdir(), 'pex-e2e-'));

  beforeAll(async () => {
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      acceptDownloads: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    mkdirSync(results, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  test('viewer e2e - a seeded dossier shows every step verified; its proof downloads and checks', async () => {
    const page = await browser.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    const first = await page.goto(recorded.auditor.viewerUrl as string);
    expect(first?.status()).toBe(401);
    await page.fill('input[name=token]', TOKEN);
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('#ledger-facts');
    await page.fill('input[name=id]', DOSSIER);
    await page.click('form.search button[type=submit]');
    await page.waitForSelector('#timeline');

    const text = await page.innerText('main');
    expect(text).toContain(`Dossier ${DOSSIER}`);
    expect(text).toContain(`All ${recorded.ids.length} messages and their receipts verify.`);
    for (const step of [
      `portal-demo → ${REGION}`,
      `portal-demo → ${OFFICE}`,
      `${REGION} → ${OFFICE}`,
      `${POST} → ${OFFICE}`,
      'application-submitted',
      'completeness-ruled',
      'visa-issued',
    ]) {
      expect(text).toContain(step);
    }
    for (const id of recorded.ids) expect(await page.locator(`tr[data-message-id="${id}"]`).count()).toBe(1);
    expect(await page.locator('tr[data-kind="receipt"]').count()).toBe(recorded.ids.length);
    expect(await page.getByText('✓ seal valid').count()).toBe(recorded.ids.length);
    expect(await page.getByText('✓ receipt signature valid').count()).toBe(recorded.ids.length);
    expect(await page.getByText('✓ checkpoint signature valid').count()).toBe(recorded.ids.length * 2);
    expect(await page.locator('[data-state="fail"]').count()).toBe(0);
    expect(text).not.toContain('Mertens');
    await page.screenshot({ path: join(results, 'auditor-viewer-timeline.png'), fullPage: true });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click(`tr[data-message-id="${recorded.ids[0]}"] a.proof`),
    ]);
    const proofFile = join(work, 'proof.json');
    await download.saveAs(proofFile);
    const proof = JSON.parse(readFileSync(proofFile, 'utf8')) as InclusionProof;
    expect(await checkProof(proof, { auditorKey: toPublicJwk(net.world.auditorKey) })).toMatchObject({
      messageId: recorded.ids[0],
    });
    expect(cspViolations).toEqual([]);
    await page.close();
  }, 60_000);

  test('viewer e2e - a tampered export shows its failing entry', async () => {
    const file = join(work, 'ledger.jsonl');
    await writeLedgerExport(file, readLedger(net.nc));
    const lines = readFileSync(file, 'utf8').split('\n');
    // The second envelope entry: one byte of its recorded JWE hash changed (line n holds entry n).
    const n = lines.findIndex((l, i) => i > 1 && l.includes('"kind":"envelope"'));
    const line = lines[n] as string;
    lines[n] = line.replace(/"jweSha256":"(.)/, (_m, c: string) => `"jweSha256":"${c === 'a' ? 'b' : 'a'}`);
    expect(lines[n]).not.toBe(line);
    const tampered = join(work, 'ledger-tampered.jsonl');
    writeFileSync(tampered, lines.join('\n'));

    const page = await browser.newPage();
    await page.goto(`${recorded.auditor.viewerUrl}/export`);
    await page.setInputFiles('#export-file', tampered);
    await Promise.all([page.waitForURL(/\/exports\//), page.click('#upload-form button[type=submit]')]);
    await page.waitForSelector('#export-verdict');
    const verdict = await page.innerText('#export-verdict');
    expect(verdict).toContain(`Verification failed at entry ${n}: ERR_LEDGER_HASH_MISMATCH`);
    const failing = await page.innerText('#failing-entry');
    expect(failing).toMatch(new RegExp(`Entry\\s+${n}\\b`));
    expect(failing).toContain('envelope');
    expect(failing).toContain(DOSSIER);
    await page.screenshot({ path: join(results, 'auditor-viewer-tampered-export.png'), fullPage: true });
    await page.close();
  }, 60_000);
});

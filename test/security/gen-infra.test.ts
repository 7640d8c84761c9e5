import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadContracts } from '@passerelle/contracts';
import { findNatsServerBinary } from '@passerelle/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { participantPermissions, renderInfraOutputs } from '../../scripts/gen-infra.js';
import { type SecureDeployment, prepareSecureDeployment } from '../../scripts/secure-exchange.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

describe('generated infra (pnpm gen:infra)', { timeout: 60_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'passerelle-infra-'));
  let deployment: SecureDeployment;
  beforeAll(async () => {
    deployment = await prepareSecureDeployment({ dir: join(home, 'secure') });
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  test('infra - committed outputs are current (run pnpm gen:infra after changing contracts or infra/participants.json)', async () => {
    const outputs = await renderInfraOutputs();
    expect([...outputs.keys()].sort()).toEqual([
      'infra/nats/cluster-n1.conf',
      'infra/nats/cluster-n2.conf',
      'infra/nats/cluster-n3.conf',
      'infra/nats/permissions.conf',
      'infra/nats/secure.conf',
      'infra/nats/single.conf',
    ]);
    for (const [file, content] of outputs) expect(readFileSync(join(root, file), 'utf8'), file).toBe(content);
  });

  test('infra - never the CVE-2023-47090 pattern: no authorization block, a real account beside the system one', () => {
    const secure = readFileSync(join(root, 'infra/nats/secure.conf'), 'utf8');
    expect(secure).not.toMatch(/^\s*authorization\s*[{:]/m);
    expect(secure).toMatch(/^\s*PASSERELLE \{/m);
    expect(secure).toMatch(/^system_account: SYS$/m);
    expect(secure).toMatch(/verify: true/);
    expect(secure).not.toMatch(/^\s*allow_non_tls/m);
  });

  test('infra - a participant may create no consumer on EXCHANGE and subscribe only its private inbox', async () => {
    const contracts = await loadContracts({ root });
    const p = participantPermissions(contracts, 'commune-21004');
    expect(p.subscribe.allow).toEqual(['_INBOX_commune-21004.>']);
    expect(p.publish.allow.filter((s) => s.includes('CREATE.EXCHANGE'))).toEqual([]);
    expect(p.publish.allow.filter((s) => s.startsWith('pex.msg.'))).toEqual(
      expect.arrayContaining(['pex.msg.arrival-registered.commune-21004.immigration-office']),
    );
    expect(
      p.publish.allow.every((s) => !s.startsWith('pex.msg.') || s.split('.')[3] === 'commune-21004'),
    ).toBe(true);
  });

  test('infra - an object store granted for reading gives no right to write, purge or delete in it', async () => {
    const contracts = await loadContracts({ root });
    const reader = participantPermissions(
      contracts,
      'region-bruxelles',
      [],
      ['pex-decisions'],
      ['pex-documents'],
    );
    const writes = (allow: string[], bucket: string): string[] =>
      allow.filter(
        (s) =>
          s.startsWith(`$O.${bucket}`) ||
          (/PURGE|MSG\.DELETE|STREAM\.(UPDATE|DELETE)/.test(s) && s.includes(bucket)),
      );
    expect(writes(reader.publish.allow, 'pex-documents')).toEqual([]);
    expect(reader.publish.allow).toEqual(
      expect.arrayContaining([
        '$JS.API.STREAM.INFO.OBJ_pex-documents',
        '$JS.API.CONSUMER.CREATE.OBJ_pex-documents.>',
      ]),
    );
    // the store it writes keeps its write rights
    expect(writes(reader.publish.allow, 'pex-decisions')).toEqual(
      expect.arrayContaining(['$O.pex-decisions.>', '$JS.API.STREAM.PURGE.OBJ_pex-decisions']),
    );
  });

  test('infra - nats-server 2.9 accepts the single-node and the three cluster configurations', async () => {
    const binary = await findNatsServerBinary();
    for (const file of ['single.conf', 'cluster-n1.conf', 'cluster-n2.conf', 'cluster-n3.conf']) {
      const { stdout, stderr } = await run(binary, ['-t', '-c', join(root, 'infra/nats', file)], {
        env: { ...process.env, ...deployment.serverEnv, PEX_STORE_DIR: join(home, 'store') },
      });
      expect(`${stdout}${stderr}`, file).toMatch(/configuration file .* is valid/);
    }
  });

  test('infra - dev CA keys and nkey seeds are readable by their owner only', () => {
    for (const file of [
      join(deployment.tlsDir, 'ca.key'),
      join(deployment.tlsDir, 'server.key'),
      join(deployment.tlsDir, 'client-commune-21004.key'),
      join(deployment.dir, 'nkeys', 'commune-21004.nk'),
    ]) {
      expect(statSync(file).mode & 0o077, file).toBe(0);
    }
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadContracts } from '@passerelle/contracts';
import { findNatsServerBinary } from '@passerelle/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { accountPlan } from '@passerelle/operator';
import {
  readObjectStores,
  readObjectStoresRead,
  readParticipants,
  readServiceBuckets,
  renderInfraOutputs,
  portalBuckets,
} from '../../scripts/gen-infra.js';
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
      'infra/nats/accounts.json',
      'infra/nats/cluster-n1.conf',
      'infra/nats/cluster-n2.conf',
      'infra/nats/cluster-n3.conf',
      'infra/nats/leaf.conf',
      'infra/nats/secure.conf',
      'infra/nats/single.conf',
    ]);
    for (const [file, content] of outputs) expect(readFileSync(join(root, file), 'utf8'), file).toBe(content);
  });

  test('infra - operator mode only: no account or user in the configuration, no authorization block', () => {
    const secure = readFileSync(join(root, 'infra/nats/secure.conf'), 'utf8');
    expect(secure).not.toMatch(/^\s*authorization\s*[{:]/m);
    expect(secure).not.toMatch(/^\s*accounts\s*[{:]/m);
    expect(secure).toMatch(/^operator: \$PEX_OPERATOR_JWT$/m);
    expect(secure).toMatch(/^system_account: \$PEX_SYSTEM_ACCOUNT$/m);
    expect(secure).toMatch(/type: full/);
    expect(secure).toMatch(/allow_delete: true/);
    expect(secure).toMatch(/verify: true/);
    expect(secure).not.toMatch(/^\s*allow_non_tls/m);
  });

  async function plan() {
    return accountPlan(
      await loadContracts({ root }),
      readParticipants(root),
      readServiceBuckets(root),
      readObjectStores(root),
      readObjectStoresRead(root),
      portalBuckets,
    );
  }

  test('infra - a participant account imports only its own subjects of EXCHANGE, and no management API', async () => {
    const commune = (await plan()).participants.find((p) => p.id === 'commune-21004')!;
    const fromExchange = commune.imports.filter((i) => i.from === 'EXCHANGE').map((i) => i.subject);
    for (const s of fromExchange.filter((x) => x.startsWith('pex.msg.')))
      expect(s.split('.')[3]).toBe('commune-21004');
    expect(fromExchange).toContain('pex.msg.arrival-registered.commune-21004.immigration-office');
    expect(fromExchange.filter((s) => /PURGE|DELETE|UPDATE|STREAM\.CREATE|LIST|NAMES/.test(s))).toEqual([]);
    // consumer creation is imported for the directory mirror only, and the user may not use it
    expect(fromExchange.filter((s) => s.includes('CONSUMER.CREATE'))).toEqual([
      '$JS.API.CONSUMER.CREATE.KV_directory',
      '$JS.API.CONSUMER.CREATE.KV_directory.>',
    ]);
    expect(commune.user.pub.deny).toContain('$JS.EX.API.CONSUMER.CREATE.>');
    expect(commune.user.sub.allow).toEqual(['_INBOX_commune-21004.>']);
    // no purge, stream deletion or update in its own account either
    expect(
      commune.user.pub.allow.filter((s) => /PURGE|STREAM\.(DELETE|UPDATE|CREATE)|MSG\.DELETE/.test(s)),
    ).toEqual([]);
  });

  test('infra - object stores are read across accounts with direct gets only', async () => {
    const p = await plan();
    const region = p.participants.find((x) => x.id === 'region-bruxelles')!;
    // a reader imports each store once, from the STORES relay, whoever writes it…
    expect(region.imports.filter((i) => i.from !== 'EXCHANGE' && i.from !== 'STORES')).toEqual([]);
    const foreign = region.imports.filter((i) => i.localSubject?.includes('OBJ_'));
    expect(foreign.every((i) => i.from === 'STORES' && i.subject.startsWith('pex.store.*.'))).toBe(true);
    expect(region.imports.filter((i) => i.from === 'STORES')).toHaveLength(foreign.length);
    expect(foreign.map((i) => i.localSubject).sort()).toEqual([
      '$JS.*.API.DIRECT.GET.OBJ_pex-decisions',
      '$JS.*.API.DIRECT.GET.OBJ_pex-decisions.>',
      '$JS.*.API.DIRECT.GET.OBJ_pex-documents',
      '$JS.*.API.DIRECT.GET.OBJ_pex-documents.>',
    ]);
    // …and the relay reaches each writer's store with direct gets only, under that writer's own prefix
    expect(p.storesImports.length).toBeGreaterThan(0);
    for (const i of p.storesImports) {
      expect(i.subject).toMatch(/^\$JS\.API\.DIRECT\.GET\.OBJ_pex-(decisions|documents)(\.>)?$/);
      expect(i.localSubject).toBe(i.subject.replace('$JS.API.', `$JS.${i.from}.API.`));
    }
    expect(p.storesImports.map((i) => i.from)).toContain('portal-employers');
    expect(p.storesImports.map((i) => i.from)).toContain('immigration-office');
    expect(region.objectStoreOwners).toEqual({ 'pex-documents': ['portal-employers'] });
    const office = p.participants.find((x) => x.id === 'immigration-office')!;
    expect(office.exports.map((e) => e.subject)).toEqual([
      '$JS.API.DIRECT.GET.OBJ_pex-decisions',
      '$JS.API.DIRECT.GET.OBJ_pex-decisions.>',
    ]);
  });

  test('infra - nats-server accepts the single-node, the three cluster and the leaf node configurations', async () => {
    const binary = await findNatsServerBinary();
    for (const file of [
      'single.conf',
      'cluster-n1.conf',
      'cluster-n2.conf',
      'cluster-n3.conf',
      'leaf.conf',
    ]) {
      const { stdout, stderr } = await run(binary, ['-t', '-c', join(root, 'infra/nats', file)], {
        env: {
          ...process.env,
          ...deployment.serverEnv,
          PEX_STORE_DIR: join(home, 'store'),
          // the leaf: a participant's name, hub URL, credentials and client certificate
          PEX_LEAF_NAME: 'leaf-commune-21004',
          PEX_HUB_LEAF_URL: 'tls://127.0.0.1:7422',
          PEX_LEAF_CREDS: deployment.credsFile('commune-21004'),
          ...(file === 'leaf.conf'
            ? {
                PEX_TLS_CERT: join(deployment.tlsDir, 'client-commune-21004.pem'),
                PEX_TLS_KEY: join(deployment.tlsDir, 'client-commune-21004.key'),
              }
            : {}),
        },
      });
      expect(`${stdout}${stderr}`, file).toMatch(/configuration file .* is valid/);
    }
  });

  test('infra - dev CA keys and nkey seeds are readable by their owner only', () => {
    for (const file of [
      join(deployment.tlsDir, 'ca.key'),
      join(deployment.tlsDir, 'server.key'),
      join(deployment.tlsDir, 'client-commune-21004.key'),
      join(deployment.dir, 'keys', 'operator.nk'),
      join(deployment.dir, 'keys', 'account-commune-21004.nk'),
      deployment.credsFile('commune-21004'),
      deployment.credsFile('admin-commune-21004'),
    ]) {
      expect(statSync(file).mode & 0o077, file).toBe(0);
    }
  });
});

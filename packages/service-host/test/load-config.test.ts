import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  exportDirectory,
  loadAnchorPrivateKey,
  writeAnchor,
  writeDirectoryFile,
  writeParticipantKeys,
} from '@passerelle/directory';
import { entryOfKeys } from '@passerelle/directory/internal';
import { signEntry } from '@passerelle/directory/internal';
import { generateParticipantKeys } from '@passerelle/envelope';
import { createLogger } from '@passerelle/exchange';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test } from 'vitest';
import { emptyTable } from './fixtures.js';
import { ServiceHost } from '../src/index.js';
import { loadHostedConfig, readServiceSettings } from '../src/internal.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('service start-up from files', () => {
  const nats = useNatsServer();

  test('config - keys folder, trust anchor and an offline directory give a running host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-start-'));
    const anchor = await writeAnchor(join(dir, 'anchor'));
    const anchorKey = await loadAnchorPrivateKey(anchor.privatePath);
    const ids = ['post-lagos', 'post-ankara', 'immigration-office'];
    const entries: string[] = [];
    for (const id of ids) {
      const keys = await generateParticipantKeys(id);
      await writeParticipantKeys(join(dir, 'keys', id), keys);
      entries.push(await signEntry(entryOfKeys(keys), anchorKey));
    }
    await writeDirectoryFile(join(dir, 'directory.json'), exportDirectory(entries, anchor.publicKey));

    const settings = await readServiceSettings('consular-post', 'consular-post', {
      PASSERELLE_PARTICIPANTS: 'post-lagos,post-ankara',
      PASSERELLE_KEYS_DIR: join(dir, 'keys'),
      PASSERELLE_ANCHOR: anchor.publicPath,
      PASSERELLE_DIRECTORY_FILE: join(dir, 'directory.json'),
      PASSERELLE_CONTRACTS_ROOT: root,
      PASSERELLE_NATS_URL: nats.url,
    });
    const loaded = await loadHostedConfig('consular-post', settings);
    expect(loaded.config.participants.map((k) => k.participantId)).toEqual(['post-lagos', 'post-ankara']);
    await expect(
      loaded.config.directory.resolve('immigration-office', 'enc', new Date()),
    ).resolves.toMatchObject({ kty: 'EC' });

    const host = await ServiceHost.open({
      service: 'consular-post',
      kind: 'consular-post',
      table: emptyTable('consular-post'),
      ...loaded.config,
      metricsPort: 0,
      logger: createLogger('t', { level: 'silent' }),
    });
    try {
      expect(host.participants).toEqual(['post-lagos', 'post-ankara']);
      const [sent] = await host.exchange('post-lagos').send(
        'visa-issued',
        {
          visaType: 'D',
          visaNumber: 'D-0000000001',
          issuedOn: '2027-03-01',
          validity: { from: '2027-03-01', to: '2027-12-31' },
        },
        {
          to: 'immigration-office',
          dossierId: 'D-START-0001',
        },
      );
      expect(sent?.subject).toBe('pex.msg.visa-issued.post-lagos.immigration-office');
      // one /metrics for the process: every hosted id, told apart by its label
      const body = await (await fetch(`http://127.0.0.1:${host.metricsServer!.port}/metrics`)).text();
      expect(body).toMatch(/pex_messages_sent_total\{[^}]*participant="post-lagos"[^}]*\} 1/);
      expect(body).not.toMatch(/pex_messages_sent_total\{[^}]*participant="post-ankara"/);
      expect(body).toMatch(/pex_redeliveries_total\{participant="post-ankara"\} 0/);
      expect(body.match(/# TYPE pex_messages_sent_total/g)).toHaveLength(1);
      // the probes beside it: every hosted id ready (the host serves no inbox yet, its receipts consumers answer)
      const readyz = await fetch(`http://127.0.0.1:${host.metricsServer!.port}/readyz`);
      expect(readyz.status).toBe(200);
      expect(await readyz.json()).toEqual({
        status: 'ready',
        participants: [
          { participant: 'post-lagos', ready: true },
          { participant: 'post-ankara', ready: true },
        ],
      });
      expect((await fetch(`http://127.0.0.1:${host.metricsServer!.port}/healthz`)).status).toBe(200);
    } finally {
      await host.close();
      await loaded.close();
    }
  });

  test('config - keys missing for a hosted id is ERR_CONFIG_INVALID naming keysDir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-start-'));
    const anchor = await writeAnchor(join(dir, 'anchor'));
    const settings = await readServiceSettings('commune', 'commune', {
      PASSERELLE_PARTICIPANTS: 'commune-21004',
      PASSERELLE_KEYS_DIR: join(dir, 'keys'),
      PASSERELLE_ANCHOR: anchor.publicPath,
      PASSERELLE_NATS_URL: nats.url,
    });
    await expect(loadHostedConfig('commune', settings)).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('keysDir'),
    });
  });
  test('config - a secured deployment names a credentials file per hosted id; a missing one is ERR_CONFIG_INVALID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-start-'));
    const anchor = await writeAnchor(join(dir, 'anchor'));
    await writeParticipantKeys(join(dir, 'keys', 'post-lagos'), await generateParticipantKeys('post-lagos'));
    const settings = await readServiceSettings('consular-post', 'consular-post', {
      PASSERELLE_PARTICIPANTS: 'post-lagos',
      PASSERELLE_KEYS_DIR: join(dir, 'keys'),
      PASSERELLE_ANCHOR: anchor.publicPath,
      PASSERELLE_CREDENTIALS_DIR: join(dir, 'credentials'),
      PASSERELLE_CONTRACTS_ROOT: root,
    });
    expect(settings.credentialsDir).toBe(join(dir, 'credentials'));
    await expect(loadHostedConfig('consular-post', settings)).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('post-lagos.json'),
    });
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { toPublicJwk } from '@passerelle/envelope';
import { describe, expect, test, vi } from 'vitest';
import { connectAdmin, connectOperator } from '../../scripts/secure-exchange.js';
import { connectSecureExchange, example, repoRoot, useSecuredServer } from '../support/secure.js';
import type { VisaState } from './secure-service-process.js';
import { OE, POST } from '../support/participants.js';

const BUCKET = `svc-${OE}`;
const MESSAGES = 400;
const DOSSIERS = 100;
const ACK_WAIT_MS = 3_000;

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('a service killed mid-burst on the secured exchange', { timeout: 180_000 }, () => {
  // the service's state bucket is provisioned in its own account as well
  const scenario = useSecuredServer('passerelle-svc-crash-', [POST, OE], {
    consumer: { ackWaitMs: ACK_WAIT_MS },
  });

  test('faults - SIGKILL a service mid-burst and restart it: no message lost, none applied twice', async () => {
    const { home, deployment, server, parties } = scenario;
    const appliedFile = join(home, 'applied.log');
    const fixtureFile = join(home, 'service.json');
    const publics = Object.fromEntries(
      [...parties.keys].map(([id, k]) => [
        id,
        { sig: toPublicJwk(k.signing), enc: toPublicJwk(k.encryption[0]!) },
      ]),
    );
    writeFileSync(
      fixtureFile,
      JSON.stringify({
        root: repoRoot,
        credentialsFile: deployment.credentialsFile(OE),
        keys: parties.keys.get(OE),
        publics,
        bucket: BUCKET,
        appliedFile,
        ackWaitMs: ACK_WAIT_MS,
      }),
      { mode: 0o600 },
    );
    const startService = async (): Promise<ChildProcess> => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(repoRoot, 'test/faults/secure-service-process.ts'), fixtureFile],
        {
          cwd: repoRoot,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout?.on('data', (c: Buffer) => void (out += c.toString()));
      child.stderr?.on('data', (c: Buffer) => void (out += c.toString()));
      await vi.waitUntil(
        () => {
          if (child.exitCode !== null) throw new Error(`service exited: ${out}`);
          return out.includes('consuming');
        },
        { timeout: 30_000 },
      );
      return child;
    };

    const sender = await connectSecureExchange(deployment, parties, POST);
    const sent: string[] = [];
    const payload = example('visa-issued');
    let service = await startService();
    try {
      const burst = (async () => {
        for (let i = 0; i < MESSAGES; i += 20) {
          const batch = await Promise.all(
            Array.from({ length: 20 }, (_, j) =>
              sender.send('visa-issued', payload, { to: OE, dossierId: `dossier-k${(i + j) % DOSSIERS}` }),
            ),
          );
          for (const [m] of batch) sent.push(m!.id);
        }
      })();
      await vi.waitUntil(() => lines(appliedFile).length >= MESSAGES / 5, { timeout: 60_000 });
      service.kill('SIGKILL');
      await new Promise((r) => service.once('exit', r));
      const appliedBeforeKill = lines(appliedFile).length;
      await burst;
      expect(appliedBeforeKill).toBeLessThan(MESSAGES);

      service = await startService();
      const op = await connectOperator(deployment, server.url);
      try {
        const jsm = await jetstreamManager(op);
        await vi.waitUntil(
          async () => {
            const c = await jsm.consumers.info('EXCHANGE', `inbox-${OE}`);
            return c.num_pending === 0 && c.num_ack_pending === 0;
          },
          { timeout: 90_000 },
        );
        // the service's state, read in its own account by its administrator
        const admin = await connectAdmin(deployment, OE, server.url);
        const entries = [];
        try {
          const kv = await new Kvm(admin).open(BUCKET);
          for (let d = 0; d < DOSSIERS; d++) entries.push(await kv.get(`${OE}.dossier-k${d}`));
        } finally {
          await admin.close();
        }
        const applied: string[] = [];
        for (let d = 0; d < DOSSIERS; d++) {
          const entry = entries[d];
          const stored = entry?.json<{ state: VisaState }>();
          expect(stored?.state.visas, `dossier-k${d}`).toBe(MESSAGES / DOSSIERS);
          expect(new Set(stored?.state.ids).size, `dossier-k${d}`).toBe(MESSAGES / DOSSIERS);
          applied.push(...(stored?.state.ids ?? []));
        }
        expect(applied.sort()).toEqual([...sent].sort());
        console.log(
          `service crash: killed after ${appliedBeforeKill} of ${MESSAGES} applied; after restart all ${MESSAGES} applied once`,
        );
      } finally {
        await op.close();
      }
    } finally {
      service.kill('SIGKILL');
      await sender.close();
    }
  });
});

import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import {
  participantsAccept,
  participantsApprove,
  participantsList,
  participantsRequest,
  participantsRevoke,
  participantsRotate,
} from '@passerelle/cli/internal';
import {
  type DirectoryClient,
  createDirectoryClient,
  loadParticipantKeys,
  makeEntry,
  publishNextEntry,
  writeAnchor,
  loadAnchorPrivateKey,
} from '@passerelle/directory';
import { type ParticipantKeys, toPublicJwk } from '@passerelle/envelope';
import {
  type Exchange,
  type IncomingMessage,
  connectExchange,
  createLogger,
  loadCredentials,
} from '@passerelle/exchange';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { connectOperator } from '../../scripts/secure-exchange.js';
import { example, repoRoot, useSecuredScenario } from '../support/secure.js';
import { OE, POST } from '../support/participants.js';

/** A commune the deployment file does not know: it is onboarded while the exchange runs. */
const COMMUNE = 'commune-44021';

describe('participant lifecycle on a running exchange', { timeout: 180_000 }, () => {
  let operatorNc: NatsConnection;
  let directory: DirectoryClient;
  let office: Exchange;
  let anchorKeyFile: string;
  const work = mkdtempSync(join(tmpdir(), 'passerelle-lifecycle-body-'));
  const first = join(work, 'commune-keys-1');
  const second = join(work, 'commune-keys-2');
  /** Messages the office handled, by envelope id, and the commune's. */
  const atOffice: string[] = [];
  const atCommune: string[] = [];

  const scenario = useSecuredScenario('passerelle-lifecycle-', [OE, POST], OE, async (s) => {
    const { deployment, server, parties } = s;
    // the trust anchor, and the directory entries of the participants the exchange starts with
    const anchor = await writeAnchor(join(s.home, 'keys'));
    anchorKeyFile = anchor.privatePath;
    const anchorKey = await loadAnchorPrivateKey(anchorKeyFile);
    operatorNc = await connectOperator(deployment, server.url);
    for (const id of [OE, POST]) {
      const k = parties.keys.get(id)!;
      await publishNextEntry(
        operatorNc,
        makeEntry(id, id, [toPublicJwk(k.signing)], k.encryption.map(toPublicJwk)),
        anchorKey,
      );
    }
    directory = await createDirectoryClient({ nc: operatorNc, anchor: anchor.publicKey });
    office = await connectAs(OE, deployment.credentialsFile(OE), parties.keys.get(OE)!);
    office.subscribe({
      'arrival-registered': async (m: IncomingMessage) => {
        atOffice.push(m.meta.id);
      },
    });
  });

  afterAll(async () => {
    await office?.close();
    await directory?.close();
    await operatorNc?.close();
  });

  const operatorOptions = () => ({
    operator: scenario.deployment.dir,
    anchorKey: anchorKeyFile,
    root: repoRoot,
    server: scenario.server.url,
  });

  /** `participant`'s exchange on its credentials file and keys, as its service would open it. */
  async function connectAs(
    participant: string,
    credentialsFile: string,
    keys: ParticipantKeys,
    extra: { reconnect?: boolean } = {},
  ): Promise<Exchange> {
    const creds = await loadCredentials(credentialsFile);
    return connectExchange({
      participant,
      keys,
      directory,
      contracts: scenario.parties.contracts,
      servers: creds.servers,
      connection: { ...creds.connection, ...extra },
      exchangeApiPrefix: creds.accounts!.exchangeApiPrefix,
      provision: false,
      logger: createLogger(participant, { level: 'silent' }),
    });
  }

  /** The commune's exchange from a body folder, as its service would open it. */
  async function openCommune(dir: string, extra: { reconnect?: boolean } = {}): Promise<Exchange> {
    const commune = await connectAs(
      COMMUNE,
      join(dir, `${COMMUNE}.json`),
      await loadParticipantKeys(dir),
      extra,
    );
    commune.subscribe({
      'stay-ended': async (m: IncomingMessage) => {
        atCommune.push(m.meta.id);
      },
    });
    return commune;
  }

  let commune: Exchange;

  test('lifecycle - a participant approved while the exchange runs sends and receives within seconds, same server process', async () => {
    const pid = scenario.server.pid;
    // on the body: its keys and its request; no private key in the request
    const { file: request } = await participantsRequest(COMMUNE, { name: 'Stad Gent', out: first });
    const text = await import('node:fs/promises').then((fs) => fs.readFile(request, 'utf8'));
    expect(text).not.toMatch(/"d"\s*:|SU[A-Z2-7]{56}|PRIVATE KEY/);

    const started = Date.now();
    const { file: approval } = await participantsApprove(request, {
      ...operatorOptions(),
      out: join(work, 'approval-1.json'),
    });
    await participantsAccept(approval, { dir: first });
    commune = await openCommune(first);
    // the same request again: the participant has its account already
    await expect(participantsApprove(request, operatorOptions())).rejects.toMatchObject({
      code: 'ERR_PARTICIPANT_STATE',
    });
    await vi.waitUntil(() => directory.get(COMMUNE) !== undefined, { timeout: 10_000 });

    const [sent] = await commune.send('arrival-registered', example('arrival-registered'), {
      to: OE,
      dossierId: 'dossier-life-0001',
    });
    await commune.awaitReceipt(sent!.id, 10_000);
    const [back] = await office.send('stay-ended', example('stay-ended'), {
      to: COMMUNE,
      dossierId: 'dossier-life-0001',
    });
    await vi.waitUntil(() => atCommune.includes(back!.id), { timeout: 10_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeLessThan(15);
    expect(atOffice).toContain(sent!.id);
    // no restart: the same nats-server process served all of it
    expect(scenario.server.pid).toBe(pid);
    expect(process.kill(pid, 0)).toBe(true);

    const listed = await participantsList({ operator: scenario.deployment.dir, root: repoRoot });
    expect(listed.find((p) => p.id === COMMUNE)).toMatchObject({
      kind: 'commune',
      state: 'active',
      origin: 'approved',
      expiringSoon: false,
    });
  });

  test('lifecycle - a rotation under traffic loses nothing; messages sealed to the old keys still open', async () => {
    const toCommune = new Set<string>();
    const toOffice = new Set<string>();
    let i = 0;
    const sendBoth = async (n: number, sender: Exchange): Promise<void> => {
      for (let k = 0; k < n; k++, i++) {
        const dossierId = `dossier-rot-${String(i).padStart(4, '0')}`;
        const [a] = await office.send('stay-ended', example('stay-ended'), { to: COMMUNE, dossierId });
        toCommune.add(a!.id);
        const [b] = await sender.send('arrival-registered', example('arrival-registered'), {
          to: OE,
          dossierId,
        });
        toOffice.add(b!.id);
      }
    };
    await sendBoth(15, commune);
    // the body stops its service to restart on new keys; the office goes on sending, sealed to the old keys
    await commune.close();
    for (let k = 0; k < 10; k++) {
      const [a] = await office.send('stay-ended', example('stay-ended'), {
        to: COMMUNE,
        dossierId: `dossier-rot-old-${k}`,
      });
      toCommune.add(a!.id);
    }
    const { file: request } = await participantsRequest(COMMUNE, {
      name: 'Stad Gent',
      out: second,
      rotate: first,
    });
    const { file: approval } = await participantsRotate(COMMUNE, {
      ...operatorOptions(),
      request,
      overlap: '10m',
      out: join(work, 'approval-2.json'),
    });
    await participantsAccept(approval!, { dir: second });
    const rotated = await openCommune(second);
    await vi.waitUntil(() => (directory.get(COMMUNE)?.signing.length ?? 0) === 2, { timeout: 10_000 });
    await sendBoth(15, rotated);
    await vi.waitUntil(() => [...toCommune].every((id) => atCommune.includes(id)), { timeout: 30_000 });
    await vi.waitUntil(() => [...toOffice].every((id) => atOffice.includes(id)), { timeout: 30_000 });
    // each exactly once
    expect(atCommune.filter((id) => toCommune.has(id))).toHaveLength(toCommune.size);
    expect(atOffice.filter((id) => toOffice.has(id))).toHaveLength(toOffice.size);

    // finishing revokes the old NATS user; the new one goes on
    const old = await loadCredentials(join(first, `${COMMUNE}.json`));
    const { revoked } = await participantsRotate(COMMUNE, { ...operatorOptions(), finish: true });
    expect(revoked).toHaveLength(1);
    await expect(
      connect({ ...old.connection, servers: old.servers, reconnect: false, timeout: 5_000 }),
    ).rejects.toThrow(/authorization violation/i);
    const [after] = await rotated.send('arrival-registered', example('arrival-registered'), {
      to: OE,
      dossierId: 'dossier-rot-after',
    });
    await rotated.awaitReceipt(after!.id, 10_000);
    await rotated.close();
  });

  test('lifecycle - a revoked participant is cut off while connected and refused within seconds', async () => {
    const live = await openCommune(second, { reconnect: false });
    const closed = live.nc.closed();
    const started = Date.now();
    await participantsRevoke(COMMUNE, operatorOptions());
    const why = await closed;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(String(why)).toMatch(/revoked|authorization/i);
    await expect(
      live.send('arrival-registered', example('arrival-registered'), {
        to: OE,
        dossierId: 'dossier-rev-9999',
      }),
    ).rejects.toThrow();
    const creds = await loadCredentials(join(second, `${COMMUNE}.json`));
    await expect(
      connect({ ...creds.connection, servers: creds.servers, reconnect: false, timeout: 5_000 }),
    ).rejects.toThrow(/authorization violation/i);
    // its keys end in the directory: nothing it signs from now on is accepted
    await vi.waitUntil(
      () => {
        const entry = directory.get(COMMUNE);
        return (
          entry !== undefined &&
          entry.signing.every((k) => k.notAfter && Date.parse(k.notAfter) <= Date.now())
        );
      },
      { timeout: 10_000 },
    );
    // the others go on
    expect(await office.readiness()).toMatchObject({ ready: true });
    const listed = await participantsList({ operator: scenario.deployment.dir, root: repoRoot });
    expect(listed.find((p) => p.id === COMMUNE)?.state).toBe('revoked');
    // a revoked participant, or one this exchange never knew, has no lifecycle step left
    for (const id of [COMMUNE, 'commune-99999']) {
      await expect(participantsRevoke(id, operatorOptions())).rejects.toMatchObject({
        code: 'ERR_PARTICIPANT_STATE',
      });
    }
    await live.close().catch(() => undefined);
  });
});

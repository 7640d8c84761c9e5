import { Writable } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Contracts, loadContracts } from '@passerelle/contracts';
import {
  type DirectoryClient,
  type StorageKeyring,
  createDirectoryClient,
  generateStorageKeyring,
  makeEntry,
  publishEntry,
  signEntry,
} from '@passerelle/directory';
import {
  type ParticipantKeys,
  generateKey,
  generateParticipantKeys,
  toPublicJwk,
} from '@passerelle/envelope';
import { connectNats } from '@passerelle/exchange';

/** A real anchor, real keys for each participant, a published and signed directory, and the contracts. */
export interface World {
  nc: NatsConnection;
  keys: Map<string, ParticipantKeys>;
  /** Each participant's storage keyring. */
  storage: Map<string, StorageKeyring>;
  directory: DirectoryClient;
  contracts: Contracts;
  close(): Promise<void>;
}

export async function makeWorld(url: string, ids: readonly string[]): Promise<World> {
  const nc = await connectNats({ servers: url, name: 'portal-test' });
  const anchor = await generateKey('sig', { kidPrefix: 'anchor' });
  const keys = new Map<string, ParticipantKeys>();
  const storage = new Map(ids.map((id) => [id, generateStorageKeyring(id)] as const));
  let revision = 0;
  for (const id of ids) {
    const k = await generateParticipantKeys(id);
    keys.set(id, k);
    const entry = makeEntry(id, `Test ${id}`, [toPublicJwk(k.signing)], k.encryption.map(toPublicJwk));
    revision = await publishEntry(nc, await signEntry(entry, anchor));
  }
  const directory = await createDirectoryClient({ nc, anchor: toPublicJwk(anchor) });
  await directory.waitForRevision(revision, 10_000);
  const contracts = await loadContracts();
  return {
    nc,
    keys,
    storage,
    directory,
    contracts,
    close: async () => {
      await directory.close();
      await nc.close();
    },
  };
}

/** A writable that keeps everything written (pino destination), to inspect log output. */
export function captureStream(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

export function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async (): Promise<void> => {
      if (await predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error('condition not met in time'));
      setTimeout(() => void tick(), 50);
    };
    void tick();
  });
}

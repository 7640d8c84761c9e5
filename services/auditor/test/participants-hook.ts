import type { NatsConnection } from '@nats-io/transport-node';
import { type Exchange, connectNats } from '@passerelle/exchange';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll } from 'vitest';
import { type AuditorConfig, type AuditorService, createAuditorService } from '../src/index.js';
import {
  type Person,
  type World,
  connectParticipants,
  makeWorld,
  memoryLogger,
  seedDossier,
} from './fixtures.js';

/** What {@link useParticipants} sets up, to read in tests and hooks that run after its `beforeAll`. */
export interface Participants {
  readonly nc: NatsConnection;
  readonly world: World;
  readonly participants: Map<string, Exchange>;
}

/**
 * For a describe block: a nats-server, a connection to it, the test world's keys and its participants
 * connected (each payload they receive handed to `onPayload`), all closed after the block. Registered
 * first, its `afterAll` runs after the block's own (an auditor closes before its connection does).
 */
export function useParticipants(onPayload?: (payload: unknown) => void): Participants {
  const nats = useNatsServer();
  const ready = setByHook<Participants>('useParticipants');
  beforeAll(async () => {
    const nc = await connectNats({ servers: nats.url });
    const world = await makeWorld();
    ready.set({ nc, world, participants: await connectParticipants(world, nc, onPayload) });
  });
  afterAll(async () => {
    const set = ready.current();
    if (!set) return;
    await Promise.all([...set.participants.values()].map((p) => p.close()));
    await set.nc.close();
  });
  return ready.view;
}

/**
 * What a `beforeAll` of `hook` sets: `view` reads its members (and fails loudly when read before the hook
 * ran), `current()` the value itself, if set yet.
 */
function setByHook<T extends object>(
  hook: string,
): { set(value: T): void; current(): T | undefined; view: T } {
  let value: T | undefined;
  const view = new Proxy({} as T, {
    get: (_target, member) => {
      // a symbol or `then` is asked of any object (printing, awaiting): not a read of the hook's value
      if (!value && (typeof member !== 'string' || member === 'then')) return undefined;
      if (!value) throw new Error(`${hook}: read before its beforeAll ran`);
      return value[member as keyof T];
    },
  });
  return { set: (v) => void (value = v), current: () => value, view };
}

/**
 * An auditor recording what `net`'s participants exchange, with the world's keys: checkpoints on count
 * only (no timer, so a test says when), logging nothing unless `config` says otherwise.
 */
export function startAuditor(
  net: Participants,
  config: Partial<AuditorConfig> = {},
): Promise<AuditorService> {
  return createAuditorService({
    nc: net.nc,
    auditorKey: net.world.auditorKey,
    resolver: net.world.resolver,
    checkpointIntervalMs: 0,
    logger: memoryLogger('silent').logger,
    ...config,
  });
}

/** What {@link useRecordedDossier} sets up: the auditor and the ids of the messages it recorded. */
export interface RecordedDossier {
  readonly auditor: AuditorService;
  readonly ids: string[];
}

/**
 * For a describe block after {@link useParticipants}: the dossier `dossierId` of `person` seeded by the
 * participants, then an auditor started with `config` (see {@link startAuditor}), caught up with it and
 * checkpointed; the auditor closed after the block's own `afterAll`.
 */
export function useRecordedDossier(
  net: Participants,
  dossierId: string,
  person: Person,
  config: Partial<AuditorConfig>,
): RecordedDossier {
  const ready = setByHook<RecordedDossier>('useRecordedDossier');
  beforeAll(async () => {
    const ids = await seedDossier(net.participants, dossierId, person);
    const auditor = await startAuditor(net, config);
    ready.set({ auditor, ids });
    await auditor.caughtUp();
    await auditor.checkpoint();
  });
  afterAll(async () => {
    await ready.current()?.auditor.close();
  });
  return ready.view;
}

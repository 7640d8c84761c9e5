import type { NatsConnection } from '@nats-io/transport-node';
import { type Exchange, connectNats } from '@passerelle/exchange';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll } from 'vitest';
import { type AuditorConfig, type AuditorService, createAuditorService } from '../src/index.js';
import { type World, connectParticipants, makeWorld, memoryLogger } from './fixtures.js';

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
  let ready: Participants | undefined;
  beforeAll(async () => {
    const nc = await connectNats({ servers: nats.url });
    const world = await makeWorld();
    ready = { nc, world, participants: await connectParticipants(world, nc, onPayload) };
  });
  afterAll(async () => {
    if (!ready) return;
    await Promise.all([...ready.participants.values()].map((p) => p.close()));
    await ready.nc.close();
  });
  const get = (): Participants => {
    if (!ready) throw new Error('useParticipants: read before its beforeAll ran');
    return ready;
  };
  return {
    get nc() {
      return get().nc;
    },
    get world() {
      return get().world;
    },
    get participants() {
      return get().participants;
    },
  };
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

import type * as NatsModule from '@testcontainers/nats';
import { PINNED_NATS_SERVER_VERSION } from './binary.js';
import { HarnessError } from './errors.js';

/** A NATS server in a Docker container (testcontainers), for machines where a Docker engine runs. */
export interface NatsContainerServer extends AsyncDisposable {
  readonly url: string;
  log(): string;
  stop(): Promise<void>;
}

/** Official image used by the container path: the pinned release. */
export const NATS_IMAGE = `nats:${PINNED_NATS_SERVER_VERSION}-alpine`;

/**
 * Starts the official NATS image with JetStream through testcontainers 11. Needs a Docker engine; the
 * error says so when none answers.
 */
export async function startNatsContainer(image = NATS_IMAGE): Promise<NatsContainerServer> {
  let mod: typeof NatsModule;
  try {
    mod = await import('@testcontainers/nats');
  } catch (err) {
    throw new HarnessError('ERR_DOCKER_UNAVAILABLE', 'testcontainers is not installed.', { cause: err });
  }
  let started: Awaited<ReturnType<InstanceType<typeof mod.NatsContainer>['start']>>;
  try {
    started = await new mod.NatsContainer(image).withJetStream().start();
  } catch (err) {
    throw new HarnessError(
      'ERR_DOCKER_UNAVAILABLE',
      `PASSERELLE_TEST_NATS=container needs a running Docker engine: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const host = started.getHost() === 'localhost' ? '127.0.0.1' : started.getHost();
  const url = `nats://${host}:${started.getMappedPort(4222)}`;
  const stop = async (): Promise<void> => {
    await started.stop();
  };
  return { url, log: () => '(see the container logs)', stop, [Symbol.asyncDispose]: stop };
}

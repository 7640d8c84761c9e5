import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type PrivateJwk, type PublicJwk, generateKey, toPublicJwk } from '@passerelle/envelope';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll } from 'vitest';
import { type DirectoryClient, type DirectoryClientOptions, createDirectoryClient } from '../src/index.js';

/** What a directory suite shares: a connection to its server, a trust anchor, and fresh buckets. */
export interface AnchoredDirectory {
  readonly nc: NatsConnection;
  readonly anchorKey: PrivateJwk;
  readonly anchor: PublicJwk;
  /** A bucket name no other test of the suite uses. */
  bucket(): string;
  /** A client of `bucket` that trusts the suite's anchor. */
  client(
    bucket: string,
    options?: Omit<DirectoryClientOptions, 'nc' | 'anchor' | 'bucket'>,
  ): Promise<DirectoryClient>;
}

/**
 * Starts a nats-server for the suite, connects to it and makes the anchor's key pair before the first test;
 * the connection is closed after the last.
 */
export function useAnchoredDirectory(bucketPrefix: string): AnchoredDirectory {
  const nats = useNatsServer();
  let n = 0;
  const suite = {
    bucket: () => `${bucketPrefix}-${++n}`,
    client: (bucket, options = {}) =>
      createDirectoryClient({ nc: suite.nc, anchor: suite.anchor, bucket, ...options }),
  } as { -readonly [K in keyof AnchoredDirectory]: AnchoredDirectory[K] };
  beforeAll(async () => {
    suite.nc = await connect({ servers: nats.url });
    suite.anchorKey = await generateKey('sig', { kidPrefix: 'anchor' });
    suite.anchor = toPublicJwk(suite.anchorKey);
  });
  afterAll(async () => {
    await suite.nc?.close();
  });
  return suite;
}

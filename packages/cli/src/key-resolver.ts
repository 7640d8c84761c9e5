import type { NatsConnection } from '@nats-io/transport-node';
import { createDirectoryClient, loadAnchor, loadDirectoryFile } from '@passerelle/directory';
import type { KeyResolver } from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';

/** The options that say where a command checks signers' keys: the anchor, and an offline directory export. */
export interface TrustOptions {
  /** The trust anchor's public key file. */
  anchor?: string;
  /** Offline directory export, checked against `--anchor`. */
  directory?: string;
}

/**
 * The directory to check signatures against: an offline export (`--directory`), else the live KV bucket,
 * both checked against the anchor. A command that trusts signed entries needs one: without `--anchor` it
 * stops (`ERR_CONFIG_INVALID`) rather than act on entries it cannot check.
 */
export async function keyResolver(
  opts: TrustOptions,
  nc: NatsConnection | undefined,
): Promise<{ resolver: KeyResolver; close: () => void }> {
  if (!opts.anchor) {
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      '--anchor <file> (the trust anchor public key) is required to check keys.',
    );
  }
  const anchor = await loadAnchor(opts.anchor);
  if (opts.directory)
    return { resolver: await loadDirectoryFile(opts.directory, anchor), close: () => undefined };
  if (!nc)
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      'Give --directory <file> to check an export without a server.',
    );
  const client = await createDirectoryClient({ nc, anchor });
  return { resolver: client, close: () => void client.close() };
}

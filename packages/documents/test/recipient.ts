import { type NatsConnection, connect } from '@nats-io/transport-node';

/** A store a recipient reads with the references its payloads carry. */
interface Readable<R> {
  read(ref: R): Promise<Uint8Array>;
}

/**
 * What a recipient reads of `ref` on a connection of its own, opening the store without creating it (as an
 * administration does); `check` sees the store it opened.
 */
export async function readAsRecipient<R, S extends Readable<R>>(
  url: string,
  open: (nc: NatsConnection) => Promise<S>,
  ref: R,
  check: (store: S) => void = () => undefined,
): Promise<Buffer> {
  const other = await connect({ servers: url });
  try {
    const recipient = await open(other);
    check(recipient);
    return Buffer.from(await recipient.read(ref));
  } finally {
    await other.close();
  }
}

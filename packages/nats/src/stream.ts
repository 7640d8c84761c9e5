import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';

/**
 * Makes the stream `config.name` what `config` says: added when missing, updated to it when there. For
 * the streams a package owns outright (its settings are the config); streams an operator may have tuned
 * are reconciled by their owner instead.
 *
 * @example
 * ```ts
 * await putStream(jsm, { name: 'DOOR_DEMO_EVENTS', subjects: ['door.demo.events.>'], storage: 'file' });
 * ```
 */
export async function putStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<StreamInfo> {
  try {
    await jsm.streams.info(config.name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) throw err;
    return jsm.streams.add(config);
  }
  return jsm.streams.update(config.name, config);
}

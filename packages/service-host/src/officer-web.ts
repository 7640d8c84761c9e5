import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { PasserelleError } from '@passerelle/errors';
import { type Logger, connectNats } from '@passerelle/exchange';
import {
  OfficerAccounts,
  type OfficerDesk,
  type OfficerWebServer,
  type TimelineSource,
  exchangeTimeline,
  startOfficerWeb,
} from '@passerelle/officer-web';
import type { ServiceSettings } from './config.js';
import type { HostedServiceConfig } from './host.js';

/** Whether a started service is a body service a case officer drives (every administration's is). */
function isDesk(value: unknown): value is OfficerDesk {
  const d = value as Partial<OfficerDesk> | null;
  return typeof d?.act === 'function' && typeof d.worklist === 'function' && typeof d.actions === 'function';
}

/**
 * Starts the case officers' page of a service process when its settings have `officerWeb`
 * (`{ "port": 8443, "accountsFile": "officers.json" }`; see packages/officer-web): over the body service
 * just started, its actions' schemas resolved against the contracts' definitions, each hosted id's
 * timeline read from the exchange with that id's own connection. Returns undefined without the setting.
 */
export async function startOfficerWebSetting(
  service: string,
  settings: ServiceSettings<object>,
  running: unknown,
  config: HostedServiceConfig,
  logger: Logger,
): Promise<{ url: string; close(): Promise<void> } | undefined> {
  const setting = settings.officerWeb;
  if (!setting) return undefined;
  if (!isDesk(running))
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      `${service} setting officerWeb: this service takes no case officer's action`,
      {
        details: { setting: 'officerWeb' },
      },
    );
  const connections = new Map<string, Promise<NatsConnection>>();
  const connection = (participant: string): Promise<NatsConnection> => {
    let nc = connections.get(participant);
    if (!nc) {
      nc = config.nc
        ? Promise.resolve(config.nc)
        : connectNats({
            ...config.connectionFor?.(participant),
            servers: config.servers!,
            name: `${service}-officer-web`,
          });
      connections.set(participant, nc);
    }
    return nc;
  };
  const timeline: TimelineSource = async (participant, dossierId) => {
    const apiPrefix = config.accountsFor?.(participant)?.exchangeApiPrefix;
    return exchangeTimeline(await connection(participant), apiPrefix ? { apiPrefix } : {})(
      participant,
      dossierId,
    );
  };
  let web: OfficerWebServer;
  try {
    web = await startOfficerWeb({
      desk: running,
      accounts: new OfficerAccounts(setting.accountsFile),
      definitions: config.contracts.definitions().map((d) => d.schema),
      timeline,
      // sessions live in this process: a new secret at each start costs nothing more
      cookieSecret: randomBytes(32),
      secureCookies: setting.secureCookies,
      port: setting.port,
      host: setting.host,
      logger: logger.child({ component: 'officer-web' }),
    });
  } catch (err) {
    await closeAll(connections, config.nc);
    throw err;
  }
  logger.info({ url: web.url }, "the case officers' page is served");
  return {
    url: web.url,
    close: async () => {
      await web.close();
      await closeAll(connections, config.nc);
    },
  };
}

async function closeAll(
  connections: Map<string, Promise<NatsConnection>>,
  shared: NatsConnection | undefined,
) {
  for (const nc of connections.values()) {
    const c = await nc.catch(() => undefined);
    if (c && c !== shared && !c.isClosed()) await c.close();
  }
}

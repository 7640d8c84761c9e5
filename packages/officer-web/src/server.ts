import fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { type OfficerWebOptions, officerWebPlugin } from './plugin.js';

/** Options of {@link startOfficerWeb}: the plugin's, and where to listen. */
export interface OfficerWebServerOptions extends OfficerWebOptions {
  /** Port (0 picks a free one). */
  port: number;
  /** Address to listen on (default `127.0.0.1`: a reverse proxy terminating TLS stands in front). */
  host?: string;
  logger?: FastifyBaseLogger;
}

/** A running officer page. */
export interface OfficerWebServer {
  app: FastifyInstance;
  /** `http://host:port`, the page's root. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the officer page on its own port, for a service process to start beside its body service. Requests
 * are not logged one by one (the page logs its sign-ins and decisions, ids only).
 *
 * @example
 * ```ts
 * const web = await startOfficerWeb({ desk: service, accounts, definitions, cookieSecret, port: 8443 });
 * ```
 */
export async function startOfficerWeb(options: OfficerWebServerOptions): Promise<OfficerWebServer> {
  const { port, host = '127.0.0.1', logger, ...plugin } = options;
  const app = fastify({
    ...(logger ? { loggerInstance: logger } : {}),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
  });
  await app.register(officerWebPlugin, plugin);
  await app.listen({ port, host });
  const address = app.server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    app,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () => app.close(),
  };
}

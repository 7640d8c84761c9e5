/**
 * `pnpm start`: the local exchange on an embedded nats-server.
 *
 * Starts nats-server with JetStream (data under `.passerelle/`, or PASSERELLE_HOME), provisions the
 * streams of DESIGN.md, records the address in `.passerelle/server.json` for the CLI, and stops
 * everything on Ctrl-C. Settings: PASSERELLE_HOME (state folder), PASSERELLE_PORT (client port, default
 * 4222, 0 for any free port).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { PasserelleError } from '@passerelle/errors';
import { connectNats, provisionStreams } from '@passerelle/exchange';
import { startNatsServer } from '@passerelle/testing';

const home = resolve(process.env['PASSERELLE_HOME'] ?? '.passerelle');
const portSetting = process.env['PASSERELLE_PORT'] ?? '4222';
const port = Number(portSetting);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(
    `error ERR_CONFIG_INVALID: PASSERELLE_PORT=${portSetting} is not a TCP port (0 picks a free one).`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  await mkdir(home, { recursive: true });
  const server = await startNatsServer({
    storeDir: join(home, 'nats'),
    port: port === 0 ? -1 : port,
    serverName: 'passerelle-local',
  });
  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`\nstopping (${why})…`);
    await rm(join(home, 'server.json'), { force: true });
    await server.stop();
    console.log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  try {
    const nc = await connectNats({ servers: server.url, name: 'passerelle-start' });
    // Stream creation right after a restart can take more than the default 5 s on two cores.
    const jsm = await jetstreamManager(nc, { timeout: 30_000 });
    const streams = await provisionStreams(jsm);
    await nc.close();
    await writeFile(
      join(home, 'server.json'),
      JSON.stringify({ url: server.url, pid: process.pid }, null, 2) + '\n',
    );
    console.log(`Passerelle local exchange`);
    console.log(`  nats-server ${server.version} listening on ${server.url}`);
    console.log(`  data in ${join(home, 'nats')}`);
    console.log(`  streams: ${streams.map((s) => `${s.config.name} (${s.state.messages} msgs)`).join(', ')}`);
    console.log(`ready: try \`pnpm passerelle status\` in another shell; Ctrl-C stops.`);
  } catch (err) {
    if (err instanceof PasserelleError) console.error(`error ${err.code}: ${err.message}`);
    else console.error(err);
    await server.stop();
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  if (err instanceof PasserelleError) console.error(`error ${err.code}: ${err.message}`);
  else console.error(err);
  process.exit(1);
});

import type { Command } from 'commander';
import { type MetaKey, isWellFormedMetaField, wellFormedMetaFields } from '@passerelle/envelope/internal';
import { Subjects } from '@passerelle/exchange';
import { type ServerOptions, connectCli, credentialsOption, serverOption } from '../context.js';

/**
 * An unchecked value shown only when it is well formed for its meta member: traffic is read before any
 * check, and a line must not carry whatever a sender put there (personal data, terminal escapes).
 */
function shown(field: MetaKey, v: unknown): string {
  return isWellFormedMetaField(field, v) ? String(v) : '?';
}

/** One line of `passerelle tail`: meta only, never payloads. */
export function describeTraffic(subject: string, data: Uint8Array): string | undefined {
  const parts = subject.split('.');
  const text = new TextDecoder().decode(data);
  if (subject.startsWith(`${Subjects.message}.`)) {
    let meta: ReturnType<typeof wellFormedMetaFields> = {};
    try {
      meta = wellFormedMetaFields((JSON.parse(text) as { meta?: unknown }).meta);
    } catch {
      // unparseable bodies are shown by size only
    }
    return `msg   ${parts[2]} ${parts[3]} -> ${parts[4]}  id=${meta.id ?? '?'} dossier=${meta.dossierId ?? '?'} ${data.length} B`;
  }
  if (subject.startsWith(`${Subjects.receipt}.`)) {
    let claims: Record<string, unknown> = {};
    try {
      claims = JSON.parse(Buffer.from(text.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
    } catch {
      // not a JWS
    }
    return `rcpt  ${parts[2]} -> ${parts[3]}  for=${shown('id', claims['messageId'])} at=${shown('issuedAt', claims['receivedAt'])}`;
  }
  return undefined;
}

/** Whether a subject concerns a participant (as sender or recipient). */
export function concerns(subject: string, participant: string | undefined): boolean {
  if (!participant) return true;
  const parts = subject.split('.');
  if (subject.startsWith(`${Subjects.message}.`)) return parts[3] === participant || parts[4] === participant;
  return parts[2] === participant || parts[3] === participant;
}

/** Registers `passerelle tail`. */
export function registerTail(program: Command): void {
  program
    .command('tail')
    .description("live view of the exchange's traffic, meta only (never payloads)")
    .addOption(serverOption())
    .addOption(credentialsOption())
    .option('--participant <id>', "only this participant's traffic")
    .action(async (opts: ServerOptions & { participant?: string }) => {
      const nc = await connectCli(opts, 'passerelle-tail');
      const stop = (): void => void nc.drain();
      process.once('SIGINT', stop);
      console.error(`tailing ${opts.participant ?? 'all participants'} on ${nc.getServer()} (Ctrl-C stops)`);
      for (const root of [Subjects.message, Subjects.receipt]) {
        const sub = nc.subscribe(`${root}.>`);
        void (async () => {
          for await (const m of sub) {
            if (!concerns(m.subject, opts.participant)) continue;
            const line = describeTraffic(m.subject, m.data);
            if (line) console.log(`${new Date().toISOString()}  ${line}`);
          }
        })();
      }
      await nc.closed();
    });
}

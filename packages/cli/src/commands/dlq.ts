import type { Command } from 'commander';
import { jetstream } from '@nats-io/jetstream';
import { wellFormedMetaFields } from '@passerelle/envelope/internal';
import { getDeadLetter, listDeadLetters, replayDeadLetter } from '@passerelle/exchange';
import {
  type ServerOptions,
  credentialsOption,
  positiveInteger,
  serverOption,
  withJetStream,
} from '../context.js';
import { printJson } from '../print-json.js';

/**
 * The clear part of a dead letter's body: the members of its envelope meta that are well formed, nothing
 * else. A refused message may carry anything in its meta (a name where an id belongs, extra members), and
 * none of that is shown.
 */
export function describeBody(data: Uint8Array): { meta?: Record<string, unknown>; bytes: number } {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(data)) as { meta?: unknown } | null;
    const meta = wellFormedMetaFields(parsed?.meta);
    if (Object.keys(meta).length > 0) return { meta, bytes: data.length };
  } catch {
    // not JSON: only its size is shown
  }
  return { bytes: data.length };
}

/** Registers `passerelle dlq list|show|replay`. */
export function registerDlq(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('dead letters: rejected or undeliverable messages, with their reason');
  dlq
    .command('list')
    .description('list dead letters, oldest first')
    .addOption(serverOption())
    .addOption(credentialsOption())
    .option('--participant <id>', 'only the dead letters of this participant')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .action(async (opts: ServerOptions & { participant?: string; limit: string; json?: boolean }) => {
      const limit = positiveInteger(opts.limit, '--limit');
      const letters = await withJetStream(opts, (_nc, jsm) =>
        listDeadLetters(jsm, {
          ...(opts.participant ? { participant: opts.participant } : {}),
          limit,
        }),
      );
      if (opts.json) {
        console.log(
          JSON.stringify(
            letters.map(({ data, ...rest }) => ({ ...rest, ...describeBody(data) })),
            null,
            2,
          ),
        );
        return;
      }
      if (letters.length === 0) {
        console.log('no dead letters');
        return;
      }
      for (const l of letters) {
        const meta = describeBody(l.data).meta;
        console.log(
          `${String(l.seq).padStart(6)}  ${l.deadAt}  ${l.participant}  ${l.code}  ${typeof meta?.['type'] === 'string' ? meta['type'] : '-'}  ` +
            `${typeof meta?.['id'] === 'string' ? meta['id'] : (l.messageId ?? '-')}  ${l.reason}`,
        );
      }
    });
  dlq
    .command('show <seq>')
    .description(
      'show one dead letter: reason, original subject and sequence, envelope meta (never the payload)',
    )
    .addOption(serverOption())
    .addOption(credentialsOption())
    .action(async (seq: string, opts: ServerOptions) => {
      const n = positiveInteger(seq, 'The dead letter sequence');
      const l = await withJetStream(opts, (_nc, jsm) => getDeadLetter(jsm, n));
      const { data, ...rest } = l;
      printJson({ ...rest, ...describeBody(data) });
    });
  dlq
    .command('replay <seq>')
    .description('publish a dead letter again on its original subject, once its cause is fixed')
    .addOption(serverOption())
    .addOption(credentialsOption())
    .action(async (seq: string, opts: ServerOptions) => {
      const n = positiveInteger(seq, 'The dead letter sequence');
      const result = await withJetStream(opts, (nc, jsm) => replayDeadLetter(jetstream(nc), jsm, n));
      console.log(`replayed dead letter ${seq} to ${result.subject} (EXCHANGE sequence ${result.seq})`);
    });
}

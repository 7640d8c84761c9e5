import { readFile, writeFile } from 'node:fs/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type ErasureLedgerEntry,
  type InclusionProof,
  type LedgerEntry,
  type PublicJwk,
  type TraceStep,
  type VerifyReport,
  type ArchiveReport,
  assertLedgerOk,
  checkProof,
  folderArchive,
  parseTsaTrust,
  restoreLedger,
  verifyArchive,
  openLedgerExport,
  parseEntry,
  proveMessage,
  readLedger,
  readLedgerEntries,
  signedExportRange,
  traceDossier,
  verifyLedger,
  writeLedgerExport,
} from '@passerelle/audit';
import { PasserelleError } from '@passerelle/errors';
import { StreamNames } from '@passerelle/exchange';
import type { Command } from 'commander';
import {
  type ServerOptions,
  connectCli,
  credentialsOption,
  positiveInteger,
  serverOption,
} from '../context.js';
import { type TrustOptions, keyResolver } from '../key-resolver.js';
import { printJson } from '../print-json.js';

/** Options shared by the audit commands. */
export interface AuditOptions extends ServerOptions, TrustOptions {
  /** An export file to read instead of the LEDGER stream. */
  file?: string;
  from?: string;
  to?: string;
  /** A pinned auditor public key (JWK file) for checkpoints. */
  auditorKey?: string;
  /** PEM file of the roots timestamp tokens' TSA certificates must chain to. */
  tsaTrust?: string;
  /** With `--file`: report entries after the last checkpoint as unsigned instead of refusing the file. */
  allowUnsignedTail?: boolean;
  /** An archive folder: its segments, then the live stream after them. */
  archive?: string;
  /** With `--archive`: the segments alone, without a server. */
  archiveOnly?: boolean;
  json?: boolean;
}

async function readTsaTrust(path: string | undefined): Promise<ReturnType<typeof parseTsaTrust> | undefined> {
  if (!path) return undefined;
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch {
    throw new PasserelleError('ERR_CONFIG_INVALID', `--tsa-trust ${path} cannot be read.`, {
      details: { setting: 'tsa-trust' },
    });
  }
  return parseTsaTrust(pem);
}

/** One line per fact of the report's timestamps, for people. */
export function describeTimestamps(report: VerifyReport, trusted: boolean): string {
  const t = report.timestamps;
  if (t.tokens === 0) return `timestamps: none (${t.checkpointsPending} checkpoints not timestamped)`;
  const last = t.last
    ? `; checkpoint #${t.last.checkpointSeq} attested at ${t.last.genTime} by ${t.last.tsa}`
    : '';
  const chain = trusted ? '' : ' (TSA certificates not checked against a trust list: give --tsa-trust)';
  return `timestamps: ${t.tokens} tokens over ${t.checkpointsTimestamped} checkpoints, ${t.checkpointsPending} waiting${last}${chain}`;
}

function seqOption(value: string | undefined, name: string): number | undefined {
  return value === undefined ? undefined : positiveInteger(value, `--${name} (a ledger sequence number)`);
}

async function readJwk(path: string): Promise<PublicJwk> {
  const { d: _d, ...jwk } = JSON.parse(await readFile(path, 'utf8')) as PublicJwk & { d?: string };
  return jwk;
}

/** The pinned trust of a check: the `--tsa-trust` roots and the `--auditor-key`, each when given. */
async function readPins(
  opts: AuditOptions,
): Promise<{ tsaTrust?: ReturnType<typeof parseTsaTrust>; auditorKey?: PublicJwk }> {
  const tsaTrust = await readTsaTrust(opts.tsaTrust);
  return {
    ...(tsaTrust ? { tsaTrust } : {}),
    ...(opts.auditorKey ? { auditorKey: await readJwk(opts.auditorKey) } : {}),
  };
}

/** The options of {@link readPins}; `auditorKeyFor` says what the auditor's key signs that is checked. */
function withPinOptions(c: Command, auditorKeyFor: string): Command {
  return c
    .option('--auditor-key <file>', `pinned auditor public key (JWK) for ${auditorKeyFor}`)
    .option('--tsa-trust <pem>', "roots (PEM) the time-stamping authority's certificate must chain to");
}

/** Runs `fn` with a NATS connection when the command reads the server (no `--file`), or without one. */
async function withLedger<T>(
  opts: AuditOptions,
  fn: (nc: NatsConnection | undefined) => Promise<T>,
): Promise<T> {
  if (opts.file && (opts.directory || !opts.anchor)) return fn(undefined);
  if (opts.archive && opts.archiveOnly && opts.directory) return fn(undefined);
  const nc = await connectCli(opts, 'passerelle-audit');
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

async function* rawSource(
  opts: AuditOptions,
  nc: NatsConnection | undefined,
): AsyncGenerator<string | Uint8Array> {
  if (opts.file) {
    const exp = await openLedgerExport(opts.file);
    yield* exp.lines;
    return;
  }
  for await (const m of readLedger(nc as NatsConnection, {
    from: seqOption(opts.from, 'from'),
    to: seqOption(opts.to, 'to'),
  })) {
    yield m.data;
  }
}

async function* entrySource(opts: AuditOptions, nc: NatsConnection | undefined): AsyncGenerator<LedgerEntry> {
  if (!opts.file) {
    yield* readLedgerEntries(nc as NatsConnection, {
      from: seqOption(opts.from, 'from'),
      to: seqOption(opts.to, 'to'),
    });
    return;
  }
  const exp = await openLedgerExport(opts.file);
  let seq = exp.header.from;
  for await (const line of exp.lines) yield parseEntry(line, seq++);
}

/** A progress line on stderr, drawn only on a terminal. */
function progressBar(total: number | undefined): { update: (n: number) => void; done: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  const started = Date.now();
  return {
    update(n) {
      const rate = Math.round(n / Math.max(0.001, (Date.now() - started) / 1000));
      const width = 30;
      const filled = total ? Math.min(width, Math.round((n / total) * width)) : 0;
      const bar = total ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
      process.stderr.write(`\r${bar}${n}${total ? `/${total}` : ''} entries  ${rate}/s   `);
    },
    done() {
      process.stderr.write('\r\u001b[K');
    },
  };
}

/** Verifies the ledger (stream or export); resolves to the report, failed or not. */
export async function runAuditVerify(opts: AuditOptions): Promise<VerifyReport> {
  return withLedger(opts, async (nc) => {
    const { resolver, close } = await keyResolver(opts, nc);
    try {
      let total: number | undefined;
      if (nc && !opts.file) {
        const info = await (await jetstreamManager(nc, { timeout: 15_000 })).streams.info(StreamNames.ledger);
        const from = seqOption(opts.from, 'from') ?? 1;
        total = Math.max(
          0,
          Math.min(seqOption(opts.to, 'to') ?? info.state.last_seq, info.state.last_seq) - from + 1,
        );
      }
      let source: AsyncIterable<string | Uint8Array> = rawSource(opts, nc);
      let startSeq = seqOption(opts.from, 'from');
      let fileChecks: { requireSignedTail?: boolean; expectedLastSeq?: number } = {};
      if (opts.file) {
        const exp = await openLedgerExport(opts.file);
        source = exp.lines;
        startSeq = exp.header.from;
        // an export must end on a signed checkpoint covering every entry in it
        fileChecks = {
          requireSignedTail: !opts.allowUnsignedTail,
          ...(exp.header.to !== undefined ? { expectedLastSeq: exp.header.to } : {}),
        };
      }
      const pins = await readPins(opts);
      const bar = progressBar(total);
      try {
        return await verifyLedger(source, {
          resolver,
          ...pins,
          ...fileChecks,
          ...(startSeq ? { startSeq } : {}),
          onProgress: bar.update,
          progressEvery: 500,
        });
      } finally {
        bar.done();
      }
    } finally {
      close();
    }
  });
}

/** Verifies an archive folder and, unless `--archive-only`, the live stream after it. */
export async function runAuditVerifyArchive(
  opts: AuditOptions & { archive: string },
): Promise<ArchiveReport> {
  return withLedger(opts, async (nc) => {
    const { resolver, close } = await keyResolver(opts, nc);
    try {
      const pins = await readPins(opts);
      const store = await folderArchive(opts.archive);
      return await verifyArchive(store, {
        resolver,
        ...pins,
        ...(nc && !opts.archiveOnly
          ? {
              live: async function* (from: number) {
                for await (const m of readLedger(nc, { from })) yield m.data;
              },
            }
          : {}),
      });
    } finally {
      close();
    }
  });
}

/** The timeline of a dossier from the ledger (stream or export). */
export async function runAuditTrace(
  dossierId: string,
  opts: AuditOptions,
  onErasure?: (entry: ErasureLedgerEntry) => void,
): Promise<TraceStep[]> {
  return withLedger(opts, (nc) =>
    traceDossier(entrySource(opts, nc), dossierId, onErasure ? { onErasure } : {}),
  );
}

function printTrace(steps: TraceStep[], erasure: ErasureLedgerEntry | undefined): void {
  if (erasure) {
    const e = erasure.meta;
    console.log(
      `erased at ${e.erasedAt} by ${e.by} (entry #${erasure.seq}), basis: ${e.basis}; keys of ${e.holders.join(', ')} destroyed`,
    );
  }
  if (steps.length === 0) {
    console.log('no message of this dossier in the ledger');
    return;
  }
  for (const s of steps) {
    console.log(
      `${s.issuedAt}  #${s.seq}  ${s.type}  ${s.sender} -> ${s.recipient}  id=${s.messageId}${s.checkpointSeq ? `  checkpoint #${s.checkpointSeq}` : '  (no checkpoint yet)'}`,
    );
    for (const r of s.receipts)
      console.log(`${' '.repeat(26)}receipt #${r.seq} by ${r.receiver} at ${r.receivedAt}`);
    if (s.receipts.length === 0) console.log(`${' '.repeat(26)}no receipt`);
  }
}

/**
 * The options of every audit command that reads a ledger: where the server is, or the export to read, and the
 * keys to check it with.
 */
function withCommonOptions(c: Command): Command {
  return c
    .addOption(serverOption())
    .addOption(credentialsOption())
    .option(
      '--file <export>',
      'read a ledger export instead of the LEDGER stream (no server needed with --directory)',
    )
    .option('--anchor <file>', 'trust anchor public key (JWK)')
    .option('--directory <file>', 'offline directory export (checked against --anchor)');
}

/**
 * `audit verify`: the ledger, or an archive then the live stream after it, checked; a non-zero exit names the
 * first bad entry.
 */
function registerVerify(audit: Command): void {
  withPinOptions(withCommonOptions(audit.command('verify')), 'checkpoints')
    .description(
      'recompute the hash chain, every seal, receipt and checkpoint; exit non-zero naming the first bad entry',
    )
    .option('--from <seq>', 'first entry to verify')
    .option('--to <seq>', 'last entry to verify')
    .option(
      '--allow-unsigned-tail',
      'with --file: report entries after the last checkpoint as unsigned instead of refusing the export',
    )
    .option('--archive <dir>', 'verify an archive folder, then the live stream after it')
    .option('--archive-only', 'with --archive: the segments alone, without a server (give --directory)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: AuditOptions) => {
      if (opts.archive) {
        const report = await runAuditVerifyArchive({ ...opts, archive: opts.archive });
        if (opts.json) printJson(report);
        else if (report.ok) {
          const segs = report.segments;
          const last = segs[segs.length - 1];
          const stamped = segs.filter((s) => s.attested).length;
          console.log(
            `ok  archive ${opts.archive}: ${segs.length} segments (entries 1..${last?.lastSeq ?? 0}), ${stamped} timestamped` +
              (last?.attested ? `, the last attested at ${last.attested.genTime}` : '') +
              (report.liveFrom !== undefined ? `; live stream ${report.liveFrom}..${report.lastSeq}` : ''),
          );
          console.log(
            `    ${report.envelopes} envelopes, ${report.receipts} receipts, ${report.checkpoints} checkpoints; head ${report.headHash}`,
          );
          console.log(describeTimestamps(report, Boolean(opts.tsaTrust)));
        }
        if (report.failure && report.failingSegment) {
          console.error(`in archive segment ${report.failingSegment}`);
        }
        assertLedgerOk(report);
        return;
      }
      const report = await runAuditVerify(opts);
      if (opts.json) printJson(report);
      else if (report.ok) {
        console.log(
          `ok  entries ${report.firstSeq}..${report.lastSeq}: ${report.envelopes} envelopes, ${report.receipts} receipts, ` +
            `${report.checkpoints} checkpoints; ${report.uncheckpointed} after the last checkpoint; head ${report.headHash}`,
        );
        console.log(describeTimestamps(report, Boolean(opts.tsaTrust)));
        if (report.firstUncheckpointed !== undefined) {
          console.log(
            `unsigned: entries ${report.firstUncheckpointed}..${report.lastSeq} are chained but no checkpoint signs them`,
          );
        }
      }
      assertLedgerOk(report);
    });
}

/** `audit restore`: a fresh server's LEDGER recreated from a verified archive. */
function registerRestore(audit: Command): void {
  withPinOptions(withCommonOptions(audit.command('restore')), 'checkpoints and segment seals')
    .description(
      'restore the ledger into a fresh server from its archive: verify it, then create LEDGER to continue after it',
    )
    .requiredOption('--archive <dir>', 'the archive folder')
    .action(async (opts: AuditOptions & { archive: string }) => {
      const nc = await connectCli(opts, 'passerelle-audit');
      try {
        const { resolver, close } = await keyResolver(opts, nc);
        try {
          const pins = await readPins(opts);
          const result = await restoreLedger({
            nc,
            store: await folderArchive(opts.archive),
            verify: { resolver, ...pins },
          });
          console.log(
            result.created
              ? `restored: the archive verifies up to entry ${result.lastSeq}; LEDGER continues at ${result.lastSeq + 1}. Start the auditor with PASSERELLE_ARCHIVE_DIR=${opts.archive}.`
              : `already restored: LEDGER continues at ${result.lastSeq + 1}`,
          );
        } finally {
          close();
        }
      } finally {
        await nc.close();
      }
    });
}

/** `audit trace`: one dossier's timeline, for people or as JSON. */
function registerTrace(audit: Command): void {
  withCommonOptions(audit.command('trace <dossierId>'))
    .description("the dossier's timeline: who sent what to whom, when, and the receipts")
    .option('--json', 'print JSON')
    .action(async (dossierId: string, opts: AuditOptions) => {
      let erasure: ErasureLedgerEntry | undefined;
      const steps = await runAuditTrace(dossierId, opts, (e) => (erasure = e));
      if (opts.json) printJson(steps);
      else printTrace(steps, erasure);
    });
}

/** `audit export`: the ledger up to a signed checkpoint, as a file others verify offline. */
function registerExport(audit: Command): void {
  audit
    .command('export')
    .description(
      'write the ledger to a JSON Lines file that audit verify --file checks offline; it ends on a signed checkpoint',
    )
    .requiredOption('--out <file>', 'output file')
    .addOption(serverOption())
    .addOption(credentialsOption())
    .option('--from <seq>', 'first entry')
    .option('--to <seq>', 'last entry (the export stops at the last checkpoint at or before it)')
    .action(async (opts: AuditOptions & { out: string }) => {
      const nc = await connectCli(opts, 'passerelle-audit');
      try {
        const range = await signedExportRange(nc, {
          ...(opts.from !== undefined ? { from: seqOption(opts.from, 'from') } : {}),
          ...(opts.to !== undefined ? { to: seqOption(opts.to, 'to') } : {}),
        });
        const n = await writeLedgerExport(opts.out, readLedger(nc, range), range);
        console.log(
          `exported ${n} entries (${range.from}..${range.to}, ending on a checkpoint) to ${opts.out}`,
        );
        if (range.leftOut > 0) {
          console.log(`left out: ${range.leftOut} later entries that no checkpoint covers yet`);
        }
      } finally {
        await nc.close();
      }
    });
}

/** `audit prove`: the inclusion proof of one message, written to a file. */
function registerProve(audit: Command): void {
  withCommonOptions(audit.command('prove <messageId>'))
    .description(
      'write an inclusion proof of one message: entry, Merkle path, signed checkpoint, public keys',
    )
    .requiredOption('--out <file>', 'output file')
    .action(async (messageId: string, opts: AuditOptions & { out: string }) => {
      const proof = await withLedger(opts, async (nc) => {
        const { resolver, close } = await keyResolver(opts, nc);
        try {
          return await proveMessage(entrySource(opts, nc), messageId, resolver);
        } finally {
          close();
        }
      });
      await writeFile(opts.out, `${JSON.stringify(proof, null, 2)}\n`);
      console.log(
        `proof of ${messageId} (entry #${proof.entry.seq}, checkpoint #${proof.checkpoint.seq}) written to ${opts.out}`,
      );
    });
}

/** `audit check-proof`: a proof checked offline, with no server. */
function registerCheckProof(audit: Command): void {
  audit
    .command('check-proof <file>')
    .description(
      'check an inclusion proof offline against a pinned auditor key or an anchored directory file',
    )
    .option('--auditor-key <file>', 'pinned auditor public key (JWK)')
    .option('--anchor <file>', 'trust anchor public key (JWK), with --directory')
    .option('--directory <file>', 'offline directory export')
    .action(async (file: string, opts: AuditOptions) => {
      const proof = JSON.parse(await readFile(file, 'utf8')) as InclusionProof;
      const trust = {
        ...(opts.auditorKey ? { auditorKey: await readJwk(opts.auditorKey) } : {}),
        ...(opts.directory && opts.anchor ? { resolver: (await keyResolver(opts, undefined)).resolver } : {}),
      };
      const result = await checkProof(proof, trust);
      console.log(
        `ok  message ${result.messageId} is entry #${result.seq} under checkpoint #${result.checkpointSeq} (root ${result.root}); sender key from the ${result.senderKeyFrom}`,
      );
    });
}

/** Registers `passerelle audit verify|restore|trace|export|prove|check-proof`. */
export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description('verify the tamper-evident audit ledger, trace dossiers, export and prove');
  registerVerify(audit);
  registerRestore(audit);
  registerTrace(audit);
  registerExport(audit);
  registerProve(audit);
  registerCheckProof(audit);
}

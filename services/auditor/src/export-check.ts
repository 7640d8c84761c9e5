import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  type KeyResolver,
  type LedgerExportHeader,
  type VerifyReport,
  openLedgerExport,
  parseEntry,
  verifyLedger,
} from '@passerelle/audit';

/** The clear facts of one entry, to name a failing entry without showing anything else. */
export interface EntrySummary {
  seq?: number;
  kind?: string;
  type?: string;
  messageId?: string;
  sender?: string;
  recipient?: string;
  dossierId?: string;
}

/** Outcome of checking a ledger export file. */
export interface ExportCheck {
  /** File name as given (path basename or uploaded name). */
  name: string;
  checkedAt: string;
  header?: LedgerExportHeader;
  report?: VerifyReport;
  /** What the failing line holds, when it parses at all. */
  failingEntry?: EntrySummary;
  /** The file is not an export at all (bad header): the code and reason. */
  error?: { code: string; reason: string };
}

async function lineAt(path: string, index: number): Promise<string | undefined> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let i = -1;
  try {
    for await (const line of rl) {
      if (line.length === 0) continue;
      if (i === index) return line;
      i++;
    }
  } finally {
    rl.close();
  }
  return undefined;
}

function summarize(line: string | undefined): EntrySummary | undefined {
  if (line === undefined) return undefined;
  try {
    const e = parseEntry(line);
    const { seq, kind } = e;
    if (e.kind === 'envelope') {
      const { type, id: messageId, sender, recipient, dossierId } = e.meta;
      return { seq, kind, type, messageId, sender, recipient, dossierId };
    }
    if (e.kind === 'receipt') {
      // a receipt travels back: from the message's recipient to its sender
      const { type, messageId, receiver: sender, sender: recipient, dossierId } = e.meta;
      return { seq, kind, type, messageId, sender, recipient, dossierId };
    }
    return { seq, kind };
  } catch {
    return undefined;
  }
}

/**
 * Verifies a ledger export written by `passerelle audit export` — chain, seals, receipts, checkpoints, the
 * same checks as `passerelle audit verify --file` — and, when it fails, reads the failing line back to name
 * its entry. Never throws for a bad file: the result says what is wrong.
 *
 * @example
 * ```ts
 * const check = await checkExportFile('/evidence/ledger.jsonl', 'ledger.jsonl', directory);
 * if (check.report?.failure) console.log(check.report.failure.seq);
 * ```
 */
export async function checkExportFile(
  path: string,
  name: string,
  resolver: KeyResolver,
  options: { threads?: number } = {},
): Promise<ExportCheck> {
  const checkedAt = new Date().toISOString();
  let exp: Awaited<ReturnType<typeof openLedgerExport>>;
  try {
    exp = await openLedgerExport(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return {
      name,
      checkedAt,
      error: {
        code: typeof code === 'string' ? code : 'ERR_LEDGER_EXPORT_INVALID',
        reason: typeof code === 'string' && err instanceof Error ? err.message : 'The file cannot be read.',
      },
    };
  }
  const report = await verifyLedger(exp.lines, {
    resolver,
    startSeq: exp.header.from,
    // an export must end on a signed checkpoint covering every entry in it
    requireSignedTail: true,
    ...(exp.header.to !== undefined ? { expectedLastSeq: exp.header.to } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
  });
  const result: ExportCheck = { name, checkedAt, header: exp.header, report };
  if (report.failure) {
    const summary = summarize(await lineAt(path, report.failure.seq - exp.header.from));
    if (summary) result.failingEntry = summary;
  }
  return result;
}

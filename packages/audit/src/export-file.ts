import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { LedgerError } from './ledger-error.js';

/** First line of a ledger export. */
export interface LedgerExportHeader {
  format: 'passerelle-ledger';
  version: 1;
  exportedAt: string;
  /** Seq of the first entry in the file. */
  from: number;
  /** Seq of the last entry in the file: a checkpoint, so that a signature covers every entry. */
  to?: number;
}

/**
 * Writes a ledger export: JSON Lines, a header line then one stored entry per line, byte for byte as
 * LEDGER holds it (canonical JSON has no newline). Resolves to the number of entries written.
 *
 * @example
 * ```ts
 * await writeLedgerExport('ledger.jsonl', readLedger(nc), { from: 1 });
 * ```
 */
export async function writeLedgerExport(
  path: string,
  entries: AsyncIterable<{ data: Uint8Array } | string> | Iterable<{ data: Uint8Array } | string>,
  options: { from?: number; to?: number; now?: Date } = {},
): Promise<number> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const header: LedgerExportHeader = {
    format: 'passerelle-ledger',
    version: 1,
    exportedAt: (options.now ?? new Date()).toISOString(),
    from: options.from ?? 1,
    ...(options.to !== undefined ? { to: options.to } : {}),
  };
  const write = async (line: string): Promise<void> => {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  };
  let count = 0;
  try {
    await write(JSON.stringify(header));
    for await (const e of entries) {
      await write(typeof e === 'string' ? e : Buffer.from(e.data).toString('utf8'));
      count++;
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return count;
}

/** An opened export: its header and its entry lines, in order. */
export interface LedgerExport {
  header: LedgerExportHeader;
  lines: AsyncGenerator<string>;
}

/** Opens a ledger export written by {@link writeLedgerExport}; throws `ERR_LEDGER_EXPORT_INVALID` on a bad header. */
export async function openLedgerExport(path: string): Promise<LedgerExport> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  const it = rl[Symbol.asyncIterator]();
  const first = await it.next();
  let header: LedgerExportHeader | undefined;
  try {
    const h = JSON.parse(first.done ? '' : first.value) as Partial<LedgerExportHeader>;
    if (
      h.format === 'passerelle-ledger' &&
      h.version === 1 &&
      Number.isSafeInteger(h.from) &&
      (h.to === undefined || Number.isSafeInteger(h.to))
    ) {
      header = h as LedgerExportHeader;
    }
  } catch {
    header = undefined;
  }
  if (!header) {
    rl.close();
    throw new LedgerError(
      'ERR_LEDGER_EXPORT_INVALID',
      'The file is not a passerelle-ledger export (version 1).',
    );
  }
  async function* lines(): AsyncGenerator<string> {
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        if (r.value.length > 0) yield r.value;
      }
    } finally {
      rl.close();
    }
  }
  return { header, lines: lines() };
}

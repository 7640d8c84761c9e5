import type { LedgerEntry } from './entry.js';
import { LedgerError } from './ledger-error.js';

const HEX64 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function malformed(reason: string, seq: number | undefined): never {
  throw new LedgerError(
    'ERR_LEDGER_ENTRY_MALFORMED',
    `Ledger entry${seq ? ` ${seq}` : ''} is malformed: ${reason}.`,
    {
      details: seq ? { seq } : {},
    },
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses one stored entry (a LEDGER message body or an export line) and checks its shape; throws
 * `ERR_LEDGER_ENTRY_MALFORMED` naming `expectedSeq` when the bytes are not an entry.
 */
export function parseEntry(raw: string | Uint8Array, expectedSeq?: number): LedgerEntry {
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
  } catch {
    malformed('not JSON', expectedSeq);
  }
  if (!isObject(value)) malformed('not an object', expectedSeq);
  const seq = value['seq'];
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) malformed('no valid seq', expectedSeq);
  const at = seq as number;
  if (value['v'] !== 1) malformed('unknown format version', at);
  for (const k of ['prevHash', 'hash'] as const) {
    if (typeof value[k] !== 'string' || !HEX64.test(value[k])) malformed(`${k} is not a hex SHA-256`, at);
  }
  if (typeof value['receivedAt'] !== 'string') malformed('no receivedAt', at);
  if (value['kind'] !== 'timestamp' && typeof value['seal'] !== 'string') malformed('no seal', at);
  const meta = value['meta'];
  if (!isObject(meta)) malformed('no meta', at);
  const str = (k: string): void => {
    if (typeof meta[k] !== 'string') malformed(`meta.${k} is missing`, at);
  };
  const int = (k: string): void => {
    if (!Number.isSafeInteger(meta[k])) malformed(`meta.${k} is missing`, at);
  };
  switch (value['kind']) {
    case 'envelope':
      for (const k of ['jweSha256', 'envelopeSha256']) {
        if (typeof value[k] !== 'string' || !HEX64.test(value[k])) malformed(`${k} is not a hex SHA-256`, at);
      }
      ['id', 'type', 'sender', 'recipient', 'dossierId', 'issuedAt'].forEach(str);
      break;
    case 'receipt':
      ['messageId', 'type', 'dossierId', 'sender', 'receiver', 'envelopeSha256', 'receivedAt'].forEach(str);
      break;
    case 'checkpoint':
      ['firstSeq', 'lastSeq', 'size'].forEach(int);
      ['root', 'headHash', 'issuedAt'].forEach(str);
      break;
    case 'erasure':
      ['dossierId', 'basis', 'by', 'erasedAt'].forEach(str);
      for (const k of ['holders', 'kids']) {
        const list = meta[k];
        if (!Array.isArray(list) || !list.every((h) => typeof h === 'string')) {
          malformed(`meta.${k} is not a list of ids`, at);
        }
      }
      break;
    case 'timestamp': {
      if (typeof value['token'] !== 'string' || !BASE64.test(value['token']))
        malformed('token is not base64', at);
      const cps = meta['checkpoints'];
      if (
        !Array.isArray(cps) ||
        cps.length === 0 ||
        !cps.every(
          (c) =>
            isObject(c) &&
            Number.isSafeInteger(c['seq']) &&
            (c['seq'] as number) >= 1 &&
            typeof c['sealSha256'] === 'string' &&
            HEX64.test(c['sealSha256']),
        )
      ) {
        malformed('meta.checkpoints is not a list of { seq, sealSha256 }', at);
      }
      break;
    }
    default:
      malformed('unknown kind', at);
  }
  return value as unknown as LedgerEntry;
}

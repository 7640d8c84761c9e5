import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseSegmentName } from './segment.js';

/** A segment being written: lines are appended, then it is committed under its name or abandoned. */
export interface SegmentWriter {
  write(line: string): Promise<void>;
  /** Makes the segment visible under `name`, whole (written aside, then renamed). */
  commit(name: string): Promise<void>;
  abandon(): Promise<void>;
}

/**
 * Where archive segments live. Segments are written whole and never changed; names sort in ledger order
 * (`ledger-<firstSeq>-<lastSeq>.jsonl`).
 */
export interface ArchiveStore {
  /** A human description (a folder's path). */
  readonly location: string;
  /** Segment names, in ledger order. */
  list(): Promise<string[]>;
  /** The lines of one segment, in order. */
  lines(name: string): AsyncIterable<string>;
  /** The last line of a segment (its trailer), read from the end of the file. */
  lastLine(name: string): Promise<string>;
  /** Starts a new segment. */
  create(): Promise<SegmentWriter>;
}

/**
 * An archive in a folder of JSON Lines files (local disk, or a mounted share or object-store bucket). A
 * segment is written as `.partial`, flushed to disk, then renamed: a crash leaves no half segment under a
 * segment's name.
 *
 * @example
 * ```ts
 * const store = await folderArchive('/var/lib/passerelle/ledger-archive');
 * ```
 */
export async function folderArchive(dir: string): Promise<ArchiveStore> {
  await mkdir(dir, { recursive: true });
  let partials = 0;
  return {
    location: dir,
    async list() {
      return (await readdir(dir)).filter((n) => parseSegmentName(n) !== undefined).sort();
    },
    async *lines(name) {
      const rl = createInterface({
        input: createReadStream(join(dir, name), { encoding: 'utf8', highWaterMark: 1 << 20 }),
        crlfDelay: Infinity,
      });
      try {
        for await (const line of rl) if (line.length > 0) yield line;
      } finally {
        rl.close();
      }
    },
    async lastLine(name) {
      const handle = await open(join(dir, name), 'r');
      try {
        const { size } = await handle.stat();
        // a trailer is a JWS and a token: a few kilobytes; read more if a line is longer
        for (let span = 64 * 1024; ; span *= 4) {
          const start = Math.max(0, size - span);
          const buf = Buffer.alloc(size - start);
          await handle.read(buf, 0, buf.length, start);
          const text = buf.toString('utf8').replace(/\n+$/, '');
          const cut = text.lastIndexOf('\n');
          if (cut >= 0 || start === 0) return text.slice(cut + 1);
        }
      } finally {
        await handle.close();
      }
    },
    async create() {
      const path = join(dir, `.segment-${process.pid}-${Date.now()}-${partials++}.partial`);
      const out = createWriteStream(path, { encoding: 'utf8' });
      await once(out, 'open');
      let closed = false;
      // lines are gathered into chunks of about 1 MiB: one write per chunk, not per entry
      let chunk: string[] = [];
      let size = 0;
      const flush = async (): Promise<void> => {
        if (chunk.length === 0) return;
        const text = `${chunk.join('\n')}\n`;
        chunk = [];
        size = 0;
        if (!out.write(text)) await once(out, 'drain');
      };
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        await flush();
        out.end();
        await once(out, 'close');
      };
      return {
        async write(line) {
          chunk.push(line);
          size += line.length;
          if (size >= 1 << 20) await flush();
        },
        async commit(name) {
          await close();
          const handle = await open(path, 'r+');
          await handle.sync();
          await handle.close();
          await rename(path, join(dir, name));
        },
        async abandon() {
          await close();
          await rm(path, { force: true });
        },
      };
    },
  };
}

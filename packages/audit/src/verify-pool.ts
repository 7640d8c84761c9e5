import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PublicJwk } from './keys.js';

// The worker is plain JavaScript on node:crypto only, evaluated from this string, so it runs the same under
// tsx, vitest and a compiled build without a TypeScript loader in the worker.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = [];
parentPort.on('message', (m) => {
  if (m.keys) for (const [i, jwk] of m.keys) keys[i] = createPublicKey({ key: jwk, format: 'jwk' });
  if (!m.jobs) return;
  const failed = [];
  const { ids, keyRefs, inputs, sigs } = m.jobs;
  for (let i = 0; i < ids.length; i++) {
    let ok = false;
    try {
      ok = verify('sha256', Buffer.from(inputs[i]), { key: keys[keyRefs[i]], dsaEncoding: 'ieee-p1363' },
        Buffer.from(sigs[i], 'base64url'));
    } catch { ok = false; }
    if (!ok) failed.push(ids[i]);
  }
  parentPort.postMessage({ batch: m.batch, failed });
});
`;

interface Batch {
  ids: number[];
  keyRefs: number[];
  inputs: string[];
  sigs: string[];
}

const BATCH_SIZE = 256;
const MAX_IN_FLIGHT_PER_WORKER = 4;

/**
 * A pool of worker threads that verify ES256 signatures in batches. Signature checks are the cost of
 * ledger verification; hashing and chain logic stay on the calling thread.
 */
export class SignaturePool {
  readonly #workers: Worker[] = [];
  readonly #keyIndex = new Map<string, number>();
  readonly #keys: Pick<PublicJwk, 'kty' | 'crv' | 'x' | 'y'>[] = [];
  readonly #sentKeys: number[];
  readonly #inFlight: number[];
  // Failures are collected as batches come back, not kept per batch: memory stays flat on long ledgers.
  readonly #failed: number[] = [];
  #outstanding = 0;
  #error: Error | undefined;
  #idle: (() => void)[] = [];
  #batch: Batch = { ids: [], keyRefs: [], inputs: [], sigs: [] };
  #batchId = 0;
  #next = 0;
  #waiters: (() => void)[] = [];

  constructor(threads = availableParallelism()) {
    const n = Math.max(1, threads);
    for (let i = 0; i < n; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (m: { batch: number; failed: number[] }) => {
        this.#inFlight[i] = (this.#inFlight[i] ?? 1) - 1;
        for (const id of m.failed) this.#failed.push(id);
        this.#settle();
      });
      w.on('error', (err: Error) => {
        this.#error ??= err;
        this.#inFlight[i] = 0;
        this.#outstanding = 0;
        this.#settle();
      });
      this.#workers.push(w);
    }
    this.#sentKeys = this.#workers.map(() => 0);
    this.#inFlight = this.#workers.map(() => 0);
  }

  #settle(): void {
    this.#outstanding = Math.max(0, this.#outstanding - 1);
    const waiter = this.#waiters.shift();
    waiter?.();
    if (this.#outstanding === 0) for (const idle of this.#idle.splice(0)) idle();
  }

  /** Queues the check of one signature; `id` comes back in {@link drain}'s failures when it does not verify. */
  async add(id: number, key: PublicJwk, signingInput: string, signature: string): Promise<void> {
    const ident = `${String(key.x)}.${String(key.y)}`;
    let ref = this.#keyIndex.get(ident);
    if (ref === undefined) {
      ref = this.#keys.length;
      this.#keys.push({ kty: key.kty, crv: key.crv, x: key.x, y: key.y });
      this.#keyIndex.set(ident, ref);
    }
    const b = this.#batch;
    b.ids.push(id);
    b.keyRefs.push(ref);
    b.inputs.push(signingInput);
    b.sigs.push(signature);
    if (b.ids.length >= BATCH_SIZE) await this.#flush();
  }

  async #flush(): Promise<void> {
    const jobs = this.#batch;
    if (jobs.ids.length === 0) return;
    this.#batch = { ids: [], keyRefs: [], inputs: [], sigs: [] };
    // Back-pressure: never queue more than a few batches per worker, so memory stays flat on long ledgers.
    while (this.#inFlight.every((n) => n >= MAX_IN_FLIGHT_PER_WORKER)) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    let i = this.#next;
    for (let k = 0; k < this.#workers.length; k++) {
      const c = (this.#next + k) % this.#workers.length;
      if ((this.#inFlight[c] ?? 0) < MAX_IN_FLIGHT_PER_WORKER) {
        i = c;
        break;
      }
    }
    this.#next = (i + 1) % this.#workers.length;
    const worker = this.#workers[i] as Worker;
    const sent = this.#sentKeys[i] ?? 0;
    const keys = this.#keys.slice(sent).map((jwk, j) => [sent + j, jwk] as const);
    this.#sentKeys[i] = this.#keys.length;
    const batch = this.#batchId++;
    this.#inFlight[i] = (this.#inFlight[i] ?? 0) + 1;
    this.#outstanding++;
    worker.postMessage({ batch, keys: keys.length ? keys : undefined, jobs });
  }

  /** Waits for every queued check; resolves to the ids whose signature failed, ascending. */
  async drain(): Promise<number[]> {
    await this.#flush();
    while (this.#outstanding > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.#error) throw this.#error;
    const failed = this.#failed.splice(0);
    return failed.sort((a, b) => a - b);
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

// A worker thread's entry that runs a TypeScript module under tsx: Node 20 does not pass `--import tsx` to
// worker threads, so the thread registers tsx itself, then imports `workerData.module`.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);

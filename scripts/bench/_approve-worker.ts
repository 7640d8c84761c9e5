// The operator's side of `pnpm bench scale`'s approval under traffic, in a thread of its own: an operator
// approves from its own process (`passerelle participants approve`), not from the event loop that runs a
// thousand participants' exchanges. The thread loads everything first, says it is ready, then approves the
// request it is handed and answers with the approval and the time the approval took.
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { loadContracts } from '@passerelle/contracts';
import type { PrivateJwk } from '@passerelle/envelope';
import { approveParticipant, openOperatorHome, readDeploymentFile } from '@passerelle/operator';

/** What the benchmark hands the thread when it starts. */
export interface ApproveWorkerData {
  root: string;
  operatorDir: string;
  deploymentFile: string;
  anchorKey: PrivateJwk;
  servers: string[];
}

const data = workerData as ApproveWorkerData;
const options = {
  home: await openOperatorHome({ dir: data.operatorDir }),
  deployment: readDeploymentFile(data.deploymentFile),
  contracts: await loadContracts({ root: data.root }),
  anchorKey: data.anchorKey,
  servers: data.servers,
};
const port = parentPort!;
port.once('message', (requestFile: string) => {
  void (async () => {
    const request = JSON.parse(await readFile(requestFile, 'utf8')) as unknown;
    const started = performance.now();
    const approval = await approveParticipant(request, options);
    port.postMessage({ approval, ms: performance.now() - started });
  })().catch((err: unknown) => port.postMessage({ error: String(err) }));
});
port.postMessage('ready');

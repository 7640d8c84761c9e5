import { beforeAll } from 'vitest';
import { type Contracts, loadContracts } from '../src/index.js';

/**
 * The repository's contracts, loaded once before the suite's tests. Loading compiles every schema:
 * seconds on a busy two-core machine, hence the hook's time-out.
 */
export function useContracts(): { readonly contracts: Contracts } {
  const loaded = {} as { contracts: Contracts };
  beforeAll(async () => {
    loaded.contracts = await loadContracts();
  }, 60_000);
  return loaded;
}

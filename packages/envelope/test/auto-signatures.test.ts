import { afterEach, expect, test, vi } from 'vitest';
import { usableCores } from '../src/cores.js';
import { createNodeCryptoProvider } from '../src/index.js';

// The cores counted are this machine's everywhere else; here the test sets them.
vi.mock('../src/cores.js', () => ({ usableCores: vi.fn() }));
const cores = vi.mocked(usableCores);
afterEach(() => {
  cores.mockReset();
});

test('createNodeCryptoProvider - signatures auto: inline on one or two usable cores, on the thread pool from three', () => {
  for (const [n, name] of [
    [1, 'node-crypto-inline'],
    [2, 'node-crypto-inline'],
    [3, 'node-crypto'],
    [64, 'node-crypto'],
  ] as const) {
    cores.mockReturnValue(n);
    expect(createNodeCryptoProvider().name).toBe(name);
    expect(createNodeCryptoProvider({ signatures: 'auto' }).name).toBe(name);
  }
  // an explicit choice does not ask
  cores.mockClear();
  expect(createNodeCryptoProvider({ signatures: 'thread-pool' }).name).toBe('node-crypto');
  expect(createNodeCryptoProvider({ signatures: 'inline' }).name).toBe('node-crypto-inline');
  expect(cores).not.toHaveBeenCalled();
});

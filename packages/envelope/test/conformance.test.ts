import { expect, test } from 'vitest';
import {
  createJoseProvider,
  createNodeCryptoProvider,
  createNodeJoseProvider,
  nativeKeyTables,
} from '../src/index.js';
import { describeConformance } from './conformance.js';

describeConformance(createJoseProvider());
describeConformance(createNodeJoseProvider());
describeConformance(createNodeCryptoProvider({ signatures: 'thread-pool' }));
describeConformance(createNodeCryptoProvider({ signatures: 'inline' }));
describeConformance(createNodeCryptoProvider({ signatures: 'thread-pool', agreement: 'node' }));
describeConformance(createNodeCryptoProvider({ signatures: 'inline', keyTables: 'node' }));
// with the key-table addon (CI builds it), every key gets its table at once
describeConformance(createNodeCryptoProvider({ keyTables: nativeKeyTables().available ? 'native' : 'auto' }));

test('createNodeCryptoProvider - refuses an unknown signatures setting', () => {
  expect(() => createNodeCryptoProvider({ signatures: 'worker' as unknown as 'inline' })).toThrow(
    /signatures must be 'auto', 'thread-pool' or 'inline'/,
  );
});

test('createNodeCryptoProvider - refuses an unknown agreement setting', () => {
  expect(() => createNodeCryptoProvider({ agreement: 'wasm' as unknown as 'node' })).toThrow(
    /agreement must be 'auto', 'native' or 'node'/,
  );
});

test('createNodeCryptoProvider - refuses an unknown keyTables setting', () => {
  expect(() => createNodeCryptoProvider({ keyTables: 'always' as unknown as 'node' })).toThrow(
    /keyTables must be 'auto', 'native' or 'node'/,
  );
});

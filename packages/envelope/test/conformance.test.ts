import { expect, test } from 'vitest';
import { createJoseProvider, createNodeCryptoProvider, createNodeJoseProvider } from '../src/index.js';
import { describeConformance } from './conformance.js';

describeConformance(createJoseProvider());
describeConformance(createNodeJoseProvider());
describeConformance(createNodeCryptoProvider({ signatures: 'thread-pool' }));
describeConformance(createNodeCryptoProvider({ signatures: 'inline' }));

test('createNodeCryptoProvider - refuses an unknown signatures setting', () => {
  expect(() => createNodeCryptoProvider({ signatures: 'worker' as unknown as 'inline' })).toThrow(
    /signatures must be 'auto', 'thread-pool' or 'inline'/,
  );
});

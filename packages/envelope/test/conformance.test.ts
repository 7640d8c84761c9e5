import { createJoseProvider, createNodeCryptoProvider, createNodeJoseProvider } from '../src/index.js';
import { describeConformance } from './conformance.js';

describeConformance(createJoseProvider());
describeConformance(createNodeJoseProvider());
describeConformance(createNodeCryptoProvider());

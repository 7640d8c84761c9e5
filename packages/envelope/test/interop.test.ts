import { beforeAll, describe, expect, test } from 'vitest';
import {
  createJoseProvider,
  createNodeCryptoProvider,
  createNodeJoseProvider,
  openEnvelope,
  sealEnvelope,
  signCompact,
  toPublicJwk,
  verifyCompact,
  verifySeal,
} from '../src/index.js';
import { makeMeta, makeWorld, samplePayload, type World } from './fixtures.js';

describe('interop', () => {
  const jose = createJoseProvider();
  const nodeJose = createNodeJoseProvider();
  const nodeCrypto = createNodeCryptoProvider({ signatures: 'thread-pool' });
  const nodeCryptoInline = createNodeCryptoProvider({ signatures: 'inline' });
  let w: World;
  beforeAll(async () => {
    w = await makeWorld();
  });

  const providers = [jose, nodeJose, nodeCrypto, nodeCryptoInline];
  const pairs = providers.flatMap((from) =>
    providers.filter((to) => to !== from).map((to) => [from, to] as const),
  );
  for (const [from, to] of pairs) {
    test(`interop - sealed with ${from.name}, verified and opened with ${to.name}`, async () => {
      const env = await sealEnvelope({
        meta: makeMeta(),
        payload: samplePayload,
        sender: w.a,
        recipientKey: toPublicJwk(w.b.encryption[0]!),
        provider: from,
      });
      const raw = JSON.stringify(env);
      await expect(verifySeal(raw, { resolver: w.resolver, provider: to })).resolves.toMatchObject({
        kid: w.a.signing.kid,
      });
      const opened = await openEnvelope(raw, { recipient: w.b, resolver: w.resolver, provider: to });
      expect(opened.payload).toEqual(samplePayload);
      expect(opened.meta).toEqual(env.meta);
    });

    test(`interop - compact JWS signed with ${from.name} verifies with ${to.name}`, async () => {
      const jws = await signCompact({ checkpoint: 7 }, w.a.signing, { typ: 'pex-checkpoint+jws' }, from);
      const r = await verifyCompact(jws, () => Promise.resolve(toPublicJwk(w.a.signing)), to);
      expect(r.payload).toEqual({ checkpoint: 7 });
    });
  }
});

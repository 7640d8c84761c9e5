import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { Kvm } from '@nats-io/kv';
import { createConsularPostService } from '@passerelle/consular-post';
import { DecisionArchive } from '@passerelle/documents';
import { newMessageId } from '@passerelle/envelope';
import { createLogger } from '@passerelle/exchange';
import { StateCipher } from '@passerelle/service-host';
import { replayDeadLetter } from '@passerelle/exchange';
import { DossierStore, type ResidenceGranted, decisionDocument } from '@passerelle/procedure';
import { describe, expect, test, vi } from 'vitest';
import {
  OE,
  OFFICER,
  SETTLE,
  reachPhase,
  OFFLINE_POST,
  ictFirstApplication,
  keptInOutbox,
  newDossierId,
  useProcedure,
  submit,
  toPermitIssued,
  today,
} from './harness.js';

/**
 * The consular posts and the communes act on the Immigration Office's annex 46 (a visa, a permit) and 52
 * (end of stay): they read the decision document the message references back from `pex-decisions` first.
 * The tests play the Office, so that what is stored can differ from what is sent.
 */
describe('decision documents are read back before a post or a commune acts on them', () => {
  const h = useProcedure();

  const period = (): { from: string; to: string } => ({ from: today(30), to: today(30 + 364) });

  /** The annex 46 the Office renders for a dossier (and the payload that references it). */
  function annex46(dossierId: string, stay = period(), to: Partial<ResidenceGranted> = {}) {
    const doc = decisionDocument({
      document: '46',
      issuer: OE,
      dossierId,
      issuedOn: today(),
      article: 'Art. 105/46',
      period: stay,
      outcome: 'granted',
    });
    const payload: ResidenceGranted = {
      annex: '46',
      decidedOn: today(),
      period: stay,
      permitToIssue: 'annex-60',
      visaRequired: true,
      consularPostId: 'post-ankara',
      decisionDocument: doc.ref,
      ...to,
    };
    return { doc, payload };
  }

  /** The Office sends `payload` to post-ankara, which dead-letters it with `code` after `deliveries`. */
  async function sentToPostAndDeadLettered(
    dossierId: string,
    payload: ReturnType<typeof annex46>['payload'],
    code: string,
    deliveries: number,
  ) {
    const office = await h.connectAs(OE);
    const [sent] = await office.send('residence-decided', payload, { to: 'post-ankara', dossierId });
    const dead = await h.waitForDeadLetter('post-ankara', code);
    expect(dead).toMatchObject({ messageId: sent!.id, deliveries });
    return dead;
  }

  const archive = (): Promise<DecisionArchive> => DecisionArchive.open(h.nc, { create: false });

  test('decision documents - an annex 46 not stored yet: no visa; retried, dead-lettered, and once stored the replay issues the visa', async () => {
    const id = newDossierId('unstored');
    const { doc, payload } = annex46(id);
    const dead = await sentToPostAndDeadLettered(id, payload, 'ERR_DECISION_DOCUMENT_MISSING', 3);
    expect(dead.reason).toContain('pex-decisions');
    expect(await h.posts.dossier('post-ankara', id)).toBeUndefined();

    // The Office stores its annex 46; the operator replays the dead letter.
    await (await archive()).put(doc.ref.objectKey, doc.bytes);
    const js = jetstream(h.nc);
    await replayDeadLetter(js, await jetstreamManager(h.nc), dead.seq);
    await reachPhase(h.posts, 'post-ankara', id, 'visa-issued');
    const visa = (await h.posts.dossier('post-ankara', id))!.visa!;
    expect(visa.validity.to <= payload.period.to).toBe(true);
  });

  test('decision documents - an annex 46 whose stored document is about another dossier: dead-lettered at once, ERR_DECISION_DOCUMENT_MISMATCH', async () => {
    const id = newDossierId('otherdoc');
    const other = annex46(newDossierId('elsewhere'));
    await (await archive()).put(other.doc.ref.objectKey, other.doc.bytes);
    const { payload } = annex46(id, period(), { decisionDocument: other.doc.ref });
    const dead = await sentToPostAndDeadLettered(id, payload, 'ERR_DECISION_DOCUMENT_MISMATCH', 1);
    expect(dead.reason).toContain('dossierId');
    expect(await h.posts.dossier('post-ankara', id)).toBeUndefined();
  });

  test('decision documents - a commune refuses an annex 46 whose document states another period, and one whose bytes differ from the reference', async () => {
    const communeId = 'commune-21004';
    const office = await h.connectAs(OE);
    const to = { visaRequired: false, communeId, consularPostId: undefined } as const;

    // The stored annex 46 grants one period, the message another: the commune issues nothing on it.
    const id = newDossierId('period');
    const stored = annex46(id);
    await (await archive()).put(stored.doc.ref.objectKey, stored.doc.bytes);
    const longer = { ...stored.payload.period, to: today(30 + 3 * 365) };
    const { consularPostId: _, ...mobility } = { ...stored.payload, ...to, period: longer };
    const [sent] = await office.send('residence-decided', mobility, { to: communeId, dossierId: id });
    const dead = await h.waitForDeadLetter(communeId, 'ERR_DECISION_DOCUMENT_MISMATCH');
    expect(dead).toMatchObject({ messageId: sent!.id, deliveries: 1 });
    expect(dead.reason).toContain('period');
    expect(await h.communes.dossier(communeId, id)).toBeUndefined();

    // A reference whose hash is not that of the stored bytes.
    const id2 = newDossierId('bytes');
    const altered = annex46(id2);
    await (await archive()).put(altered.doc.ref.objectKey, altered.doc.bytes);
    const { consularPostId: __, ...payload2 } = {
      ...altered.payload,
      ...to,
      decisionDocument: { ...altered.doc.ref, sha256: 'e'.repeat(64) },
    };
    const [sent2] = await office.send('residence-decided', payload2, { to: communeId, dossierId: id2 });
    const dead2 = await h.waitForDeadLetter(communeId, 'ERR_DOCUMENT_INTEGRITY');
    expect(dead2).toMatchObject({ messageId: sent2!.id, deliveries: 1 });
    expect(await h.communes.dossier(communeId, id2)).toBeUndefined();
  });

  test('decision documents - the Office acts on a work authorisation only when its document reads back stating the period granted', async () => {
    const id = newDossierId('workdoc');
    h.overrides.work.set(id, 'pending');
    await submit(h, id, ictFirstApplication());
    await reachPhase(h.office, OE, id, 'admissible');
    const regionId = (await h.office.dossier(OE, id))!.routing.regionId;
    const stay = period();
    const doc = decisionDocument({
      document: 'work-authorisation',
      issuer: regionId,
      dossierId: id,
      issuedOn: today(),
      article: 'Art. 105/46 §2',
      period: stay,
      outcome: 'granted',
    });
    await (await archive()).put(doc.ref.objectKey, doc.bytes);
    const region = await h.connectAs(regionId);
    const decided = (granted: { from: string; to: string }) => ({
      decision: 'granted',
      decidedOn: today(),
      period: granted,
      decisionDocument: doc.ref,
    });

    // the message grants a longer period than its document
    const [sent] = await region.send('work-authorisation-decided', decided({ ...stay, to: today(800) }), {
      to: OE,
      dossierId: id,
    });
    const dead = await h.waitForDeadLetter(OE, 'ERR_DECISION_DOCUMENT_MISMATCH');
    expect(dead).toMatchObject({ messageId: sent!.id, deliveries: 1 });
    expect(dead.reason).toContain('period');
    expect((await h.office.dossier(OE, id))?.phase).toBe('admissible');

    // the decision as its document states it is acted on: the residence grant follows, for that period
    await region.send('work-authorisation-decided', decided(stay), { to: OE, dossierId: id });
    await vi.waitUntil(async () => (await h.office.dossier(OE, id))?.work?.decision === 'granted', SETTLE);
    expect((await h.office.dossier(OE, id))?.work).toMatchObject({ period: stay });
  });

  test("decision documents - a renewal-pending attestation needs the region's admissibility document of that dossier", async () => {
    const communeId = 'commune-11002';
    const admissibility = (dossierId: string) =>
      decisionDocument({
        document: 'admissibility',
        issuer: 'region-vlaanderen',
        dossierId,
        issuedOn: today(),
        article: 'Agreement of 5 March 2021; Art. 33 §6',
        outcome: 'complete',
      });
    const id = newDossierId('presented');
    const other = admissibility(newDossierId('another'));
    await (await archive()).put(other.ref.objectKey, other.bytes);
    const input = {
      expiredPermitNumber: 'A60-PRESENTED1',
      regionId: 'region-vlaanderen',
      admissibilityDocument: other.ref,
    };
    // the clerk is told at once, and nothing is attested
    await expect(
      h.communes.act(communeId, id, 'attest-renewal-pending', input, OFFICER),
    ).rejects.toMatchObject({
      code: 'ERR_DECISION_DOCUMENT_MISMATCH',
      details: { fields: ['dossierId'] },
    });
    expect(await h.communes.dossier(communeId, id)).toBeUndefined();

    const own = admissibility(id);
    await expect(
      h.communes.act(
        communeId,
        id,
        'attest-renewal-pending',
        { ...input, admissibilityDocument: own.ref },
        OFFICER,
      ),
    ).rejects.toMatchObject({ code: 'ERR_DECISION_DOCUMENT_MISSING' });
    await (await archive()).put(own.ref.objectKey, own.bytes);
    const attested = await h.communes.act(
      communeId,
      id,
      'attest-renewal-pending',
      {
        ...input,
        admissibilityDocument: own.ref,
      },
      OFFICER,
    );
    expect(attested.phase).toBe('renewal-pending');
  });

  test('outbox relay - a service that starts sends what an earlier run left in its outboxes, once', async () => {
    // An earlier run of the Tokyo post decided a visa and died before sending it.
    const id = newDossierId('leftover');
    const tokyo = h.keys.get(OFFLINE_POST)!;
    const kv = await new Kvm(h.nc).open('svc-consular-post');
    const earlier = new DossierStore<{ phase: string }>(kv, {
      cipher: () => StateCipher.fromKeyring(h.storage.get(OFFLINE_POST)!, 'dossiers'),
      newMessageId: () => newMessageId(),
      onUnsent: () => undefined,
    });
    const visa = {
      visaType: 'D',
      visaNumber: 'D-LEFTOVER01',
      issuedOn: today(),
      validity: { from: today(), to: today(300) },
    };
    await earlier.apply(
      OFFLINE_POST,
      id,
      'annex-46-copy',
      () => ({ state: { phase: 'visa-issued' }, send: [{ type: 'visa-issued', payload: visa, to: [OE] }] }),
      () => Promise.reject(new Error('the process died')),
    );

    const restarted = await createConsularPostService({
      participants: [tokyo],
      storageKeys: [h.storage.get(OFFLINE_POST)!],
      directory: h.resolver,
      contracts: h.contracts,
      nc: h.nc,
      logger: createLogger('post-tokyo', { level: 'silent' }),
    });
    try {
      const sent = await h.waitForMessages(id, 'visa-issued', 1);
      expect(sent[0]).toMatchObject({ sender: OFFLINE_POST, recipient: OE });
      await vi.waitUntil(async () => (await earlier.read(OFFLINE_POST, id))?.outbox.length === 0, SETTLE);
      await new Promise((r) => setTimeout(r, 500));
      expect((h.seen.get(id) ?? []).filter((m) => m.type === 'visa-issued')).toHaveLength(1);
    } finally {
      await restarted.close();
    }
  });

  // Last in this file: it takes the decisions store away for a while.
  test('outbox relay - the Office ends a stay while the decisions store is gone: recorded at once, and the annex 52 reaches each body once when the store is back', async () => {
    const id = newDossierId('relay');
    await toPermitIssued(h, id);

    await (await new Objm(h.nc).open('pex-decisions')).destroy();
    // the case officer's decision is recorded, not refused: its message waits in the dossier's outbox
    const ended = await h.office.act(OE, id, 'end-stay', { reason: 'other', endsOn: today(200) }, OFFICER);
    expect(ended.phase).toBe('closed');
    expect(h.events).toContainEqual(keptInOutbox(OE, id));
    await new Promise((r) => setTimeout(r, 1_000)); // four relay rounds, all failing
    expect((h.seen.get(id) ?? []).filter((m) => m.type === 'stay-ended')).toEqual([]);

    // the operator restores the store: the next round stores the annex 52, then sends it
    await DecisionArchive.open(h.nc);
    const sent = await h.waitForMessages(id, 'stay-ended', 3);
    expect(sent.map((m) => m.recipient).sort()).toEqual(['commune-21004', 'portal-demo', 'region-bruxelles']);
    await reachPhase(h.communes, 'commune-21004', id, 'closed');
    await new Promise((r) => setTimeout(r, 1_000)); // more rounds: nothing is sent twice
    expect((h.seen.get(id) ?? []).filter((m) => m.type === 'stay-ended')).toHaveLength(3);
  });
});

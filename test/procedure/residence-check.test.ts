import { describe, expect, test, vi } from 'vitest';
import {
  OE,
  OFFICER,
  PORTAL,
  ictFirstApplication,
  newDossierId,
  submit,
  today,
  useProcedure,
  SETTLE,
  reachPhase,
} from './harness.js';

const COMMUNE = 'commune-21004';

describe('residence check before the permit (Art. 105/47 §2 al. 2, 105/58 al. 2), end to end', () => {
  const h = useProcedure();

  /** An ICT first application taken to the arrival at the commune (annex 49 issued). */
  const toArrived = async (id: string): Promise<void> => {
    await submit(h, id, ictFirstApplication());
    await reachPhase(h.office, OE, id, 'visa-issued');
    await h.communes.act(
      COMMUNE,
      id,
      'register-arrival',
      { enteredOn: today(41), reportedOn: today(42) },
      OFFICER,
    );
    await reachPhase(h.office, OE, id, 'arrived');
  };

  test('residence check - negative: no permit and no extension, the Office is told; checked again and positive, the permit follows', async () => {
    const id = newDossierId('rescheck');
    await toArrived(id);
    // the permit waits for the check
    await expect(h.communes.act(COMMUNE, id, 'issue-permit', {}, OFFICER)).rejects.toMatchObject({
      code: 'ERR_OUT_OF_SEQUENCE',
    });

    const negative = await h.communes.act(
      COMMUNE,
      id,
      'check-residence',
      { outcome: 'negative', reason: 'not-residing-at-address', checkedOn: today(50) },
      OFFICER,
    );
    expect(negative.residenceCheck).toEqual({
      outcome: 'negative',
      checkedOn: today(50),
      reason: 'not-residing-at-address',
    });
    const [sent] = await h.waitForMessages(id, 'residence-checked');
    expect(sent).toMatchObject({ sender: COMMUNE, recipient: OE });
    await vi.waitUntil(
      async () => (await h.office.dossier(OE, id))?.residenceCheck?.outcome === 'negative',
      SETTLE,
    );
    // the Office's case officers see it on their event stream; so does the desk
    // (the Office's event follows the state it stored: waited for, not assumed)
    for (const service of ['immigration-office', 'commune']) {
      await vi.waitUntil(() =>
        h.events.some(
          (e) =>
            e.service === service &&
            e.dossierId === id &&
            e.kind === 'notice' &&
            e.type === 'residence-check-negative',
        ),
      );
    }
    await expect(h.communes.act(COMMUNE, id, 'issue-permit', {}, OFFICER)).rejects.toMatchObject({
      code: 'ERR_OUT_OF_SEQUENCE',
    });
    await expect(h.communes.act(COMMUNE, id, 'extend-provisional', {}, OFFICER)).rejects.toMatchObject({
      code: 'ERR_EXTENSION_NOT_ALLOWED',
    });
    expect((h.seen.get(id) ?? []).some((m) => m.type === 'permit-issued')).toBe(false);

    // the person is found at the address on a second visit
    await h.communes.act(
      COMMUNE,
      id,
      'check-residence',
      { outcome: 'positive', checkedOn: today(55) },
      OFFICER,
    );
    await vi.waitUntil(
      async () => (await h.office.dossier(OE, id))?.residenceCheck?.outcome === 'positive',
      SETTLE,
    );
    const issued = await h.communes.act(COMMUNE, id, 'issue-permit', {}, OFFICER);
    expect(issued.permit).toMatchObject({ kind: 'annex-60' });
    await h.waitForPortal(id, 'permit-issued');
    await reachPhase(h.office, OE, id, 'permit-issued');
  });

  test('residence check - negative, and the Office ends the stay: annex 52 to the commune, which closes the dossier without a permit', async () => {
    const id = newDossierId('resneg');
    await toArrived(id);
    await h.communes.act(
      COMMUNE,
      id,
      'check-residence',
      { outcome: 'negative', reason: 'address-not-found', checkedOn: today(43) },
      OFFICER,
    );
    await vi.waitUntil(
      async () => (await h.office.dossier(OE, id))?.residenceCheck?.outcome === 'negative',
      SETTLE,
    );
    await h.office.act(OE, id, 'end-stay', { reason: 'other', endsOn: today(60) }, OFFICER);
    const ended = await h.waitForMessages(id, 'stay-ended', 3);
    expect(ended.map((m) => m.recipient).sort()).toEqual([COMMUNE, PORTAL, 'region-bruxelles'].sort());
    await reachPhase(h.communes, COMMUNE, id, 'closed');
    expect((await h.communes.dossier(COMMUNE, id))?.permit).toBeUndefined();
    await expect(
      h.communes.act(COMMUNE, id, 'check-residence', { outcome: 'positive' }, OFFICER),
    ).rejects.toMatchObject({ code: 'ERR_DOSSIER_CLOSED' });
  });
});

import { beforeAll, describe, expect, test, vi } from 'vitest';
import {
  type PortalClient,
  type TestIntegrator,
  example,
  integrator,
  portalClient,
  startPortal,
  useFilingPortal,
  SETTLE,
  PORTAL,
  REGION,
  FAMILY_NAME,
} from './fixtures.js';

const SUMMARY_MEMBERS = [
  'category',
  'closed',
  'createdAt',
  'dossierId',
  'href',
  'procedure',
  'state',
  'updatedAt',
].sort();

describe('portal dossier list', () => {
  const filing = useFilingPortal();
  let reader: TestIntegrator;
  /** acme's dossiers in the order filed: ict, ict, ict, single permit. */
  const filed: string[] = [];
  let theirs = '';
  /** A time after every application was filed and before any ruling. */
  let beforeRulings = '';

  async function rule(dossierId: string, payload: Record<string, unknown>, state: string): Promise<void> {
    await vi.waitUntil(() => filing.atRegion.has(dossierId), SETTLE);
    await filing.atRegion.get(dossierId)!.reply('completeness-ruled', payload, {
      context: { procedure: 'first', scheme: 'ict', regionId: REGION, portalId: PORTAL },
    });
    await vi.waitUntil(
      async () => (await filing.acme.get(`/v1/dossiers/${dossierId}`)).json?.state === state,
      SETTLE,
    );
  }

  beforeAll(async () => {
    reader = await integrator(filing.portal, 'acme-dashboard', ['read']);

    for (let i = 0; i < 3; i++) filed.push(await filing.file(filing.acme));
    filed.push(
      await filing.file(filing.acme, 'valid-single-permit-minor-no-criminal-record', {
        regionId: REGION,
        workplaceCommuneId: 'commune-21004',
      }),
    );
    theirs = await filing.file(filing.beta);
    beforeRulings = new Date().toISOString();
    await rule(filed[0]!, example('completeness-ruled', 'valid-missing-items'), 'missing-items');
    await rule(
      filed[1]!,
      example('completeness-ruled', 'valid-inadmissible-fee-proof-missing'),
      'inadmissible',
    );
  });

  /** Every page from `path` on, following `next` links. */
  async function pages(client: PortalClient, path: string) {
    const seen: { self: string; items: { dossierId: string }[]; pageSize: number; next?: string }[] = [];
    let target: string | undefined = path;
    while (target) {
      const res = await client.get(target);
      expect(res.status, res.text).toBe(200);
      seen.push(res.json);
      target = res.json.next;
      expect(seen.length).toBeLessThan(20);
    }
    return seen;
  }

  const ids = (list: { items: { dossierId: string }[] }[]) =>
    list.flatMap((p) => p.items.map((i) => i.dossierId));

  test('list - the integrator’s own dossiers, newest first, in pages of the Belgif collection envelope', async () => {
    const list = await pages(filing.acme, '/v1/dossiers?pageSize=3');
    expect(list).toHaveLength(2);
    expect(list[0]).toMatchObject({ self: `${filing.portal.origin}/v1/dossiers?pageSize=3`, pageSize: 3 });
    expect(Object.keys(list[0]!).sort()).toEqual(['items', 'next', 'pageSize', 'self']);
    expect(list[0]!.next).toMatch(new RegExp(`^${filing.portal.origin}/v1/dossiers\\?pageSize=3&cursor=`));
    expect(Object.keys(list[1]!).sort()).toEqual(['items', 'pageSize', 'self']);
    expect(ids(list)).toEqual([...filed].reverse());
    // another integrator's dossier is never in it; its own list holds it alone
    expect(ids(list)).not.toContain(theirs);
    expect(ids(await pages(filing.beta, '/v1/dossiers'))).toEqual([theirs]);
    // a client with the read scope lists as well
    const read = portalClient(filing.portal.origin, reader);
    expect((await read.get('/v1/dossiers')).status).toBe(200);
  });

  test('list - each item holds status fields and its link, nothing of the application', async () => {
    const res = await filing.acme.get('/v1/dossiers?pageSize=10');
    for (const item of res.json.items as Record<string, unknown>[]) {
      expect(Object.keys(item).sort()).toEqual(SUMMARY_MEMBERS);
      expect(item['href']).toBe(`${filing.portal.origin}/v1/dossiers/${String(item['dossierId'])}`);
      const one = await filing.acme.get(String(item['href']));
      expect(one.status).toBe(200);
      expect(one.json).toMatchObject({ state: item['state'], category: item['category'] });
    }
    expect(res.json.items[3]).toMatchObject({
      dossierId: filed[0],
      category: 'ict',
      procedure: 'first',
      state: 'missing-items',
      closed: false,
    });
    expect(res.text).not.toContain(FAMILY_NAME);
    expect(res.text).not.toContain('objectKey');
  });

  test('list - filters: state, category, closed, updated since; combined with pages', async () => {
    const only = async (query: string) => ids(await pages(filing.acme, `/v1/dossiers?${query}`));
    expect(await only('state=missing-items')).toEqual([filed[0]]);
    expect(await only('state=missing-items&state=inadmissible')).toEqual([filed[1], filed[0]]);
    expect(await only('category=single-permit')).toEqual([filed[3]]);
    expect(await only('category=ict&pageSize=1')).toEqual([filed[2], filed[1], filed[0]]);
    expect(await only('closed=true')).toEqual([filed[1]]);
    expect(await only('closed=false')).toEqual([filed[3], filed[2], filed[0]]);
    expect(await only(`updatedSince=${encodeURIComponent(beforeRulings)}`)).toEqual([filed[1], filed[0]]);
    expect(await only('state=submitted&category=single-permit')).toEqual([filed[3]]);
    expect(await only('state=permit-issued')).toEqual([]);
  });

  test('list - a cursor altered or taken to other filters, an unknown filter or value, is a badRequest naming it', async () => {
    const first = await filing.acme.get('/v1/dossiers?pageSize=1');
    const next = new URL(first.json.next as string);
    const cursor = next.searchParams.get('cursor')!;
    // one character before the last changed (the last may carry only padding bits), never to itself
    const altered = `${cursor.slice(0, -2)}${cursor.at(-2) === 'A' ? 'B' : 'A'}${cursor.slice(-1)}`;
    for (const [what, query, name] of [
      ['altered', `pageSize=1&cursor=${encodeURIComponent(altered)}`, 'cursor'],
      ['other filters', `pageSize=1&state=submitted&cursor=${encodeURIComponent(cursor)}`, 'cursor'],
      ['unknown filter', 'colour=red', 'colour'],
      ['unknown state', 'state=approved', 'state'],
      ['page too large', 'pageSize=1000', 'pageSize'],
      ['not a time', 'updatedSince=yesterday', 'updatedSince'],
    ]) {
      const res = await filing.acme.get(`/v1/dossiers?${query}`);
      expect(res.status, what).toBe(400);
      expect(res.json, what).toMatchObject({ type: 'urn:problem-type:belgif:badRequest' });
      expect(res.json.issues, what).toEqual(
        expect.arrayContaining([expect.objectContaining({ in: 'query', name })]),
      );
    }
    // another integrator's cursor reads its own list from there: nothing of acme's
    const fromAcme = await filing.beta.get(`/v1/dossiers?pageSize=1&cursor=${encodeURIComponent(cursor)}`);
    expect(fromAcme.status).toBe(200);
    expect(ids([fromAcme.json])).not.toContain(filed[2]);
  });

  test('list - a dossier just filed is in the next list; another instance of the portal lists it too', async () => {
    const dossierId = await filing.file(filing.acme);
    const res = await filing.acme.get('/v1/dossiers?pageSize=1');
    expect(res.json.items.map((i: { dossierId: string }) => i.dossierId)).toEqual([dossierId]);
    // a second instance (same participant, same door) learns it from the bucket's watch
    const second = await startPortal(filing.world, filing.url, PORTAL, {
      door: { secret: filing.portal.secret },
    });
    try {
      const there = portalClient(second.origin, await integrator(second, 'acme-hr-second'));
      expect((await there.get('/v1/dossiers')).json.items).toEqual([]);
      const viaSecond = await filing.acme.call('GET', `${second.origin}/v1/dossiers?pageSize=1`);
      expect(viaSecond.status).toBe(200);
      expect(viaSecond.json.items.map((i: { dossierId: string }) => i.dossierId)).toEqual([dossierId]);
      const later = await filing.file(filing.acme);
      await vi.waitUntil(async () => {
        const page = await filing.acme.call('GET', `${second.origin}/v1/dossiers?pageSize=1`);
        return page.json.items[0]?.dossierId === later;
      }, SETTLE);
    } finally {
      await second.app.close();
    }
  });
});

import { generateStorageKeyring } from '@passerelle/directory';
import { fileURLToPath } from 'node:url';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { type Contracts, loadContracts, readExample } from '@passerelle/contracts';
import {
  type ParticipantKeys,
  createStaticResolver,
  generateParticipantKeys,
  publicKeysOf,
} from '@passerelle/envelope';
import { type Exchange, type IncomingMessage, connectExchange, createLogger } from '@passerelle/exchange';
import { addDays, type BodyTable, type Period, refuse, toIsoDate } from '@passerelle/procedure';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ServiceEvent, ServiceHost } from '../src/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const example = (type: string, file: string): unknown => readExample(root, type, file);

// A consular post's steps, cut down: the annex 46 copy opens the dossier (a message step), the visa is a
// case officer's action, and a deadline step reminds of a visa not issued the day the copy came.
interface PostState {
  phase: 'annex-46-received' | 'visa-issued';
  receivedOn: string;
  stay: Period;
  reminded?: boolean;
  taken?: { action: string; stepId: string; on: string; by?: { clientId: string; officerId: string } }[];
}
type PostEvent =
  { type: 'received'; on: string; stay: Period } | { type: 'reminded' } | { type: 'visa-issued' };

const table: BodyTable<PostState, PostEvent> = {
  body: 'consular-post',
  evolve: (state, event) => {
    switch (event.type) {
      case 'received':
        return { phase: 'annex-46-received', receivedOn: event.on, stay: event.stay };
      case 'reminded':
        return { ...state!, reminded: true };
      case 'visa-issued':
        return { ...state!, phase: 'visa-issued' };
    }
  },
  messages: {
    'residence-decided': {
      needs: (_state, payload: { annex: string }, ctx) =>
        payload.annex === '46'
          ? []
          : refuse('ERR_OUT_OF_SEQUENCE', 'annex 46 only', { dossierId: ctx.dossierId }),
      decide: (_state, payload: { period: Period }, ctx) => ({
        events: [{ type: 'received', on: ctx.today, stay: payload.period }],
      }),
    },
  },
  actions: {
    'issue-visa': {
      title: 'Issue the long-stay visa',
      // a reference into a message schema, resolved by the host
      input: {
        type: 'object',
        properties: {
          visaType: { $ref: 'https://passerelle.invalid/schemas/visa-issued.v1.json#/properties/visaType' },
        },
        required: ['visaType'],
        additionalProperties: false,
      },
      sends: ['visa-issued'],
      owed: (state) => (state.phase === 'annex-46-received' ? { deadline: state.receivedOn } : undefined),
      decide: (state, _input, ctx) => ({
        events: [{ type: 'visa-issued' }],
        send: [
          {
            type: 'visa-issued',
            payload: {
              visaType: 'D',
              visaNumber: 'D-HOST000001',
              issuedOn: ctx.today,
              validity: state!.stay,
            },
            to: ['immigration-office'],
            causationId: ctx.causationId,
          },
        ],
        summary: 'issued',
      }),
    },
  },
  deadlines: {
    reminder: {
      title: 'Remind of a visa not issued without delay',
      deadline: (state) => state.receivedOn,
      due: (state, ctx) =>
        state.phase === 'annex-46-received' && !state.reminded && ctx.today > state.receivedOn,
      decide: () => ({
        events: [{ type: 'reminded' }],
        notices: [{ kind: 'deadline', type: 'visa-reminder' }],
      }),
    },
  },
};

describe('service host - one generic handler for every step of a table', () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  let contracts: Contracts;
  let keys: Map<string, ParticipantKeys>;
  let host: ServiceHost<PostState, PostEvent>;
  let office: Exchange;
  const events: ServiceEvent[] = [];
  const received: IncomingMessage[] = [];

  beforeAll(async () => {
    nc = await connect({ servers: nats.url });
    contracts = await loadContracts({ root });
    keys = new Map();
    for (const id of ['post-lagos', 'immigration-office']) keys.set(id, await generateParticipantKeys(id));
    const directory = createStaticResolver([...keys.values()].map(publicKeysOf));
    host = await ServiceHost.open({
      service: 'consular-post',
      kind: 'consular-post',
      table,
      participants: [keys.get('post-lagos')!],
      storageKeys: [generateStorageKeyring('post-lagos')],
      directory,
      contracts,
      nc,
      bucket: 'svc-decider-host-test',
      logger: createLogger('post', { level: 'silent' }),
      onEvent: (e) => void events.push(e),
    });
    host.start();
    office = await connectExchange({
      participant: 'immigration-office',
      keys: keys.get('immigration-office')!,
      directory,
      contracts,
      nc,
      logger: createLogger('oe', { level: 'silent' }),
    });
    office.subscribe(async (m) => void received.push(m));
  });
  afterAll(async () => {
    await host?.close();
    await office?.close();
    await nc?.close();
  });

  const until = async (predicate: () => boolean | Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 15_000;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 40));
    }
  };
  const officer = { clientId: 'backoffice-lagos', officerId: 'officer-7f3a' };
  const today = toIsoDate(new Date());

  test('host - a message step, a deadline step and a person action through the same handler: state, outbox, actor, events', async () => {
    const dossierId = 'D-HOST-0001';
    const annex46 = example('residence-decided', 'valid-annex-46-first-ict.json');
    await office.send('residence-decided', annex46, { to: 'post-lagos', dossierId });
    await until(async () => (await host.body().dossier('post-lagos', dossierId)) !== undefined);
    expect(await host.body().dossier('post-lagos', dossierId)).toMatchObject({
      phase: 'annex-46-received',
      receivedOn: today,
    });
    expect(events).toContainEqual(
      expect.objectContaining({
        kind: 'received',
        type: 'residence-decided',
        dossierId,
        peer: 'immigration-office',
      }),
    );

    // the worklist: the visa owed, due the day the copy came
    expect(await host.worklist()).toEqual([
      {
        participant: 'post-lagos',
        dossierId,
        phase: 'annex-46-received',
        action: 'issue-visa',
        deadline: today,
        workingDaysLeft: 0,
      },
    ]);
    expect(await host.available('post-lagos', dossierId)).toEqual(['issue-visa']);

    // the deadline step, the next day: decided once, a second scan the same day decides nothing
    const tomorrow = new Date(`${addDays(today, 1)}T12:00:00Z`);
    expect(await host.checkDeadlines(tomorrow)).toEqual([
      { participant: 'post-lagos', dossierId, step: 'reminder', deadline: today, phase: 'annex-46-received' },
    ]);
    expect(await host.checkDeadlines(tomorrow)).toEqual([]);
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'deadline', type: 'visa-reminder', dossierId }),
    );

    // the case officer's action, retried under the same key: applied and sent once, who took it recorded
    const first = await host.act('post-lagos', dossierId, 'issue-visa', { visaType: 'D' }, officer, {
      stepId: 'req-1',
    });
    const again = await host.act('post-lagos', dossierId, 'issue-visa', { visaType: 'D' }, officer, {
      stepId: 'req-1',
    });
    expect(first.phase).toBe('visa-issued');
    expect(again).toEqual(first);
    expect(first.taken).toEqual([
      { action: 'issue-visa', stepId: 'issue-visa:req-1', on: today, by: officer },
    ]);
    await until(() => received.some((m) => m.meta.dossierId === dossierId));
    await new Promise((r) => setTimeout(r, 300));
    const visas = received.filter((m) => m.meta.dossierId === dossierId);
    expect(visas.map((m) => [m.meta.type, m.meta.sender, m.meta.causationId])).toEqual([
      ['visa-issued', 'post-lagos', null],
    ]);
    expect(events).toContainEqual(
      expect.objectContaining({ kind: 'notice', type: 'issue-visa', detail: 'issued', dossierId }),
    );
    expect(await host.worklist()).toEqual([]);
  });

  test('host - an action is checked before it is decided: hosted id, action, dossier id, actor, input; refusals keep their code', async () => {
    const dossierId = 'D-HOST-0002';
    await office.send('residence-decided', example('residence-decided', 'valid-annex-46-first-ict.json'), {
      to: 'post-lagos',
      dossierId,
    });
    await until(async () => (await host.body().dossier('post-lagos', dossierId)) !== undefined);
    const act = (participant: string, action: string, input: unknown, actor: unknown, id = dossierId) =>
      host.act(participant, id, action, input, actor as typeof officer);
    await expect(act('post-ankara', 'issue-visa', { visaType: 'D' }, officer)).rejects.toMatchObject({
      code: 'ERR_NOT_HOSTED',
    });
    for (const action of ['issue-permit', 'constructor', '__proto__']) {
      await expect(act('post-lagos', action, {}, officer)).rejects.toMatchObject({
        code: 'ERR_UNKNOWN_ACTION',
      });
    }
    await expect(
      act('post-lagos', 'issue-visa', { visaType: 'D' }, officer, 'D.HOST.>'),
    ).rejects.toMatchObject({
      code: 'ERR_ACTION_INPUT_INVALID',
      details: { field: 'dossier id' },
    });
    for (const actor of [
      undefined,
      {},
      { clientId: 'x' },
      { clientId: 'x', officerId: 'Jan Janssens' },
      { clientId: 'x', officerId: 'jan@example.org' },
    ]) {
      await expect(act('post-lagos', 'issue-visa', { visaType: 'D' }, actor)).rejects.toMatchObject({
        code: 'ERR_ACTOR_INVALID',
      });
    }
    // the input schema, resolved from the visa's message schema: `const: 'D'`
    const invalid = await act('post-lagos', 'issue-visa', { visaType: 'C' }, officer).catch(
      (e: unknown) => e,
    );
    expect(invalid).toMatchObject({
      code: 'ERR_ACTION_INPUT_INVALID',
      details: { errors: [{ path: '/visaType', keyword: 'const' }] },
    });
    expect((host.actions()[0]!.input as { properties: { visaType: unknown } }).properties.visaType).toEqual({
      const: 'D',
    });
    // nothing of a refused action was written
    expect((await host.body().dossier('post-lagos', dossierId))?.taken).toBeUndefined();

    await act('post-lagos', 'issue-visa', { visaType: 'D' }, officer);
    await expect(act('post-lagos', 'issue-visa', { visaType: 'D' }, officer)).rejects.toMatchObject({
      code: 'ERR_DUPLICATE_DECISION',
    });
    await expect(
      act('post-lagos', 'issue-visa', { visaType: 'D' }, officer, 'D-HOST-NONE'),
    ).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_DOSSIER',
    });
  });
});

import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { createCommuneService, type CommuneService } from '@passerelle/commune';
import {
  automaticPostPolicy,
  createConsularPostService,
  type ConsularPostService,
} from '@passerelle/consular-post';
import type { Contracts } from '@passerelle/contracts';
import type { KeyResolver, ParticipantKeys } from '@passerelle/envelope';
import {
  type DeadLetter,
  type Exchange,
  type IncomingMessage,
  DossierKeys,
  connectExchange,
  createLogger,
  listDeadLetters,
} from '@passerelle/exchange';
import { generateParties } from '@passerelle/exchange/testing';
import {
  type ImmigrationOfficeService,
  type ResidenceDecision,
  automaticOfficePolicy,
  createImmigrationOfficeService,
} from '@passerelle/immigration-office';
import { type StorageKeyring, generateStorageKeyring } from '@passerelle/directory';
import { DocumentStore } from '@passerelle/documents';
import {
  addDays,
  type Actor,
  type ApplicationSubmitted,
  type DocumentRef,
  toIsoDate,
} from '@passerelle/procedure';
import {
  type RegionalAuthorityService,
  type WorkDecision,
  automaticWorkDecision,
  createRegionalAuthorityService,
} from '@passerelle/regional-authority';
import type { DeadlineRun, ServiceEvent } from '@passerelle/service-host';
import { sampleApplication } from '@passerelle/service-host/testing';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { startedHandle } from '../support/handle.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const PORTAL = 'portal-demo';
export const OE = 'immigration-office';
export const REGIONS = ['region-vlaanderen', 'region-wallonie', 'region-bruxelles', 'region-dg'] as const;
export const POSTS = ['post-lagos', 'post-ankara'] as const;
export const COMMUNES = ['commune-21004', 'commune-11002', 'commune-62063', 'commune-63023'] as const;
/** A post in the directory that no service hosts: its annex 46 copies wait, so a test plays the post. */
export const OFFLINE_POST = 'post-tokyo';
/** The case officer (and the back-office client) taking the tests' actions: pseudonymous ids. */
/** How long a scenario waits for what crosses the exchange (`vi.waitUntil` options). */
export const SETTLE = { timeout: 15_000, interval: 40 } as const;
/** {@link SETTLE}, or `timeout` ms when given. */
const settle = (timeout?: number) => ({ ...SETTLE, timeout: timeout ?? SETTLE.timeout });

export const OFFICER: Actor = { clientId: 'procedure-tests', officerId: 'officer-0001' };

/** A message seen on the exchange: its clear meta only (what the auditor sees). */
export interface SeenMessage {
  type: string;
  sender: string;
  recipient: string;
  dossierId: string;
  id: string;
  correlationId: string;
}

/** Decisions a test imposes on a dossier; `pending` leaves it to a case officer. */
export interface Overrides {
  work: Map<string, WorkDecision | 'pending'>;
  residence: Map<string, ResidenceDecision | 'pending'>;
}

/** Everything running for the procedure tests. */
export interface ProcedureHarness {
  contracts: Contracts;
  keys: Map<string, ParticipantKeys>;
  /** Each participant's storage keyring, what its service seals its records under. */
  storage: Map<string, StorageKeyring>;
  resolver: KeyResolver;
  nc: NatsConnection;
  portal: Exchange;
  region: RegionalAuthorityService;
  office: ImmigrationOfficeService;
  posts: ConsularPostService;
  communes: CommuneService;
  overrides: Overrides;
  events: ServiceEvent[];
  /** Payloads the portal received, by dossier. */
  portalInbox: Map<string, IncomingMessage[]>;
  /** Every envelope published, by dossier (meta only). */
  seen: Map<string, SeenMessage[]>;
  /** Resolves when `count` messages of `type` were published for the dossier; returns them. */
  waitForMessages(
    dossierId: string,
    type: string,
    count?: number,
    timeoutMs?: number,
  ): Promise<SeenMessage[]>;
  /** Resolves with the portal's `type` messages for the dossier once it has `count` of them. */
  waitForPortal(
    dossierId: string,
    type: string,
    count?: number,
    timeoutMs?: number,
  ): Promise<IncomingMessage[]>;
  /** Resolves with the dead letter of a participant carrying `code` for the dossier. */
  waitForDeadLetter(participant: string, code: string, timeoutMs?: number): Promise<DeadLetter>;
  /** A send-only exchange for a participant (a misbehaving or replayed sender in bad-input tests). */
  connectAs(participant: string): Promise<Exchange>;
  close(): Promise<void>;
}

const silent = (name: string) => createLogger(name, { level: 'silent' });

/**
 * Short delays: redelivery and ack waits in milliseconds so the retried paths stay fast. The last wait
 * leaves a message that overtook its predecessor (a ruling before its application) 2.2 s for that one to be
 * handled, on a loaded machine too, before it is dead-lettered.
 */
const consumer = { ackWaitMs: 5_000, backoffMs: [200, 2_000], maxDeliver: 3 };

/**
 * Starts the four services (all regions, two posts, four communes in one instance each), the portal side
 * as an exchange of `portal-demo`, on one nats-server, with real keys and the real contracts.
 */
export async function startProcedure(url: string): Promise<ProcedureHarness> {
  const ids = [PORTAL, OE, ...REGIONS, ...POSTS, OFFLINE_POST, ...COMMUNES];
  const { keys, resolver, contracts } = await generateParties(ids, root);
  const storage = new Map(ids.map((id) => [id, generateStorageKeyring(id)] as const));
  const nc = await connect({ servers: url });
  const events: ServiceEvent[] = [];
  const onEvent = (e: ServiceEvent): void => void events.push(e);
  const overrides: Overrides = { work: new Map(), residence: new Map() };

  const seen = new Map<string, SeenMessage[]>();
  const sub = nc.subscribe('pex.msg.>');
  void (async () => {
    for await (const m of sub) {
      try {
        const { meta } = m.json<{ meta: SeenMessage }>();
        const list = seen.get(meta.dossierId) ?? [];
        list.push({
          type: meta.type,
          sender: meta.sender,
          recipient: meta.recipient,
          dossierId: meta.dossierId,
          id: meta.id,
          correlationId: meta.correlationId,
        });
        seen.set(meta.dossierId, list);
      } catch {
        // not an envelope: ignored by the observer
      }
    }
  })();

  // the documents doc(n) names, read by the regional authority before it counts them
  await uploadDocuments(nc);
  // decided messages that could not be sent are tried again every quarter second here (10 s by default)
  // every party seals payloads and decision documents under each dossier's own key, as pnpm start runs them
  const shared = { directory: resolver, contracts, nc, consumer, outboxRetryMs: 250, dossierKeys: true };
  const payloadSeal = (participant: string) =>
    DossierKeys.over(() => nc, { keys: keys.get(participant)!, directory: resolver });
  /** What a service of the participants `ids` is started with: their keys, its log and the events. */
  const serving = (ids: readonly string[], log: string) => ({
    ...shared,
    participants: ids.map((id) => keys.get(id)!),
    storageKeys: ids.map((id) => storage.get(id)!),
    logger: silent(log),
    onEvent,
  });
  const region = await createRegionalAuthorityService({
    ...serving(REGIONS, 'region'),
    // the tests' policy, openly: the automatic grant unless a test imposes a decision or leaves it pending
    policy: {
      'decide-work': ({ dossierId, dossier }) => {
        const o = overrides.work.get(dossierId);
        if (o === 'pending') return undefined;
        return o ?? automaticWorkDecision(dossier);
      },
    },
  });
  const office = await createImmigrationOfficeService({
    ...serving([OE], 'office'),
    policy: {
      'decide-residence': (input) => {
        const o = overrides.residence.get(input.dossierId);
        if (o === 'pending') return undefined;
        return o ?? automaticOfficePolicy['decide-residence']!(input);
      },
    },
  });
  const posts = await createConsularPostService({
    ...serving(POSTS, 'posts'),
    // the visa issued on the annex 46 at once, as if the passport were presented then
    policy: automaticPostPolicy,
  });
  const communes = await createCommuneService(serving(COMMUNES, 'communes'));

  const portalInbox = new Map<string, IncomingMessage[]>();
  const portal = await connectExchange({
    participant: PORTAL,
    keys: keys.get(PORTAL)!,
    directory: resolver,
    contracts,
    nc,
    consumer,
    logger: silent(PORTAL),
    payloadSeal: payloadSeal(PORTAL),
  });
  portal.subscribe(async (m) => {
    const list = portalInbox.get(m.meta.dossierId) ?? [];
    list.push(m);
    portalInbox.set(m.meta.dossierId, list);
    return Promise.resolve();
  });
  const extra: Exchange[] = [];

  const jsm = await jetstreamManager(nc);
  return {
    contracts,
    keys,
    storage,
    resolver,
    nc,
    portal,
    region,
    office,
    posts,
    communes,
    overrides,
    events,
    portalInbox,
    seen,
    async waitForMessages(dossierId, type, count = 1, timeoutMs) {
      const pick = (): SeenMessage[] => (seen.get(dossierId) ?? []).filter((m) => m.type === type);
      await vi
        .waitUntil(() => pick().length >= count, settle(timeoutMs))
        .catch(() => {
          throw new Error(
            `${dossierId}: ${pick().length} of ${count} ${type} seen; all: ${(seen.get(dossierId) ?? []).map((m) => m.type).join(', ')}`,
          );
        });
      return pick();
    },
    async waitForPortal(dossierId, type, count = 1, timeoutMs) {
      const pick = (): IncomingMessage[] =>
        (portalInbox.get(dossierId) ?? []).filter((m) => m.meta.type === type);
      await vi
        .waitUntil(() => pick().length >= count, settle(timeoutMs))
        .catch(() => {
          throw new Error(`${dossierId}: the portal has ${pick().length} of ${count} ${type}`);
        });
      return pick();
    },
    async waitForDeadLetter(participant, code, timeoutMs) {
      let found: DeadLetter | undefined;
      await vi.waitUntil(async () => {
        found = (await listDeadLetters(jsm, { participant })).find((d) => d.code === code);
        return found !== undefined;
      }, settle(timeoutMs));
      return found!;
    },
    async connectAs(participant) {
      const ex = await connectExchange({
        participant,
        keys: keys.get(participant)!,
        directory: resolver,
        contracts,
        nc,
        consumer,
        logger: silent(`${participant}-extra`),
        payloadSeal: payloadSeal(participant),
      });
      extra.push(ex);
      return ex;
    },
    async close() {
      sub.unsubscribe();
      await Promise.all([
        region.close(),
        office.close(),
        posts.close(),
        communes.close(),
        portal.close(),
        ...extra.map((e) => e.close()),
      ]);
      await nc.close();
    },
  };
}

/**
 * In a `describe`: its own nats-server, and the procedure started on it before the tests (handed to
 * `started`, when given) and closed after them; the handle returned reads it, in the tests and hooks.
 */
export function useProcedure(started?: (h: ProcedureHarness) => void): ProcedureHarness {
  const nats = useNatsServer();
  let h: ProcedureHarness | undefined;
  beforeAll(async () => {
    h = await startProcedure(nats.url);
    started?.(h);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });
  return startedHandle(() => h, 'the procedure harness');
}

/**
 * Matches the notice a service gives when a dossier's messages could not be sent and wait in its outbox
 * (the decision stands; the relay or the next run sends them): `expect(h.events).toContainEqual(…)`.
 */
export function keptInOutbox(service: string, dossierId: string): unknown {
  return expect.objectContaining({
    service,
    kind: 'notice',
    dossierId,
    detail: 'messages kept in the outbox',
  });
}

let counter = 0;

/** A fresh pseudonymous dossier id. */
export function newDossierId(label: string): string {
  counter += 1;
  return `D-${label}-${Date.now().toString(36)}-${counter}`.slice(0, 64);
}

/** How many documents a started harness uploads; `doc(n)` for n up to this names a real upload. */
const UPLOADED_DOCUMENTS = 100;
/** The real uploads of the harness this test file started (`startProcedure`). */
const uploads = new Map<number, DocumentRef>();

/**
 * Document `n`: once `startProcedure` has run, a real upload to pex-documents (the regional authority reads
 * every document it counts); before, or for tests without a server, a placeholder reference.
 */
export function doc(n: number): DocumentRef {
  return (
    uploads.get(n) ?? {
      sha256: n.toString(16).padStart(64, '0'),
      mediaType: 'application/pdf',
      size: 1000 + n,
      objectKey: `dossiers/test/doc-${n}.pdf`,
    }
  );
}

/** Uploads documents 1…UPLOADED_DOCUMENTS as the portal would, so that `doc(n)` names them. */
async function uploadDocuments(nc: NatsConnection): Promise<void> {
  const store = await DocumentStore.open(nc);
  const numbers = Array.from({ length: UPLOADED_DOCUMENTS }, (_, i) => i + 1);
  const refs = await Promise.all(
    numbers.map((n) =>
      store.put({
        owner: PORTAL,
        mediaType: 'application/pdf',
        body: (async function* () {
          yield Buffer.from(`%PDF-1.7 test document ${n}\n`);
        })(),
        maxBytes: 1024,
      }),
    ),
  );
  numbers.forEach((n, i) => uploads.set(n, refs[i]!));
}

/** Waits until the dossier's phase at `participant` of `body` is `phase`. */
export async function reachPhase(
  body: { dossier(participant: string, dossierId: string): Promise<{ phase: string } | undefined> },
  participant: string,
  dossierId: string,
  phase: string,
): Promise<void> {
  await vi.waitUntil(async () => (await body.dossier(participant, dossierId))?.phase === phase, SETTLE);
}

/** Today in Brussels and a date relative to it. */
export function today(offsetDays = 0): string {
  return addDays(toIsoDate(new Date()), offsetDays);
}

/**
 * Takes a new ICT first application (via Lagos, to commune 21004) to its permit: submitted, annex 46, visa,
 * arrival registered, residence checked, permit issued.
 */
export async function toPermitIssued(h: ProcedureHarness, dossierId: string): Promise<void> {
  await submit(h, dossierId, ictFirstApplication());
  await reachPhase(h.office, OE, dossierId, 'visa-issued');
  await arriveAndIssuePermit(h, dossierId);
  await reachPhase(h.office, OE, dossierId, 'permit-issued');
}

/**
 * Takes a dossier whose visa is issued through commune 21004 to its permit: arrival registered, residence
 * checked (Art. 105/47 §2 al. 2), permit issued; returns what issuing the permit answered.
 */
export async function arriveAndIssuePermit(
  h: ProcedureHarness,
  dossierId: string,
): ReturnType<CommuneService['act']> {
  await h.communes.act(
    'commune-21004',
    dossierId,
    'register-arrival',
    { enteredOn: today(41), reportedOn: today(42) },
    OFFICER,
  );
  await reachPhase(h.office, OE, dossierId, 'arrived');
  return checkResidenceAndIssuePermit(h, 'commune-21004', dossierId, today(42));
}

/**
 * The commune finds the person at the address on `checkedOn` (the check a permit waits for), then issues the
 * permit; returns what issuing it answered.
 */
export async function checkResidenceAndIssuePermit(
  h: ProcedureHarness,
  communeId: string,
  dossierId: string,
  checkedOn: string,
): ReturnType<CommuneService['act']> {
  await h.communes.act(communeId, dossierId, 'check-residence', { outcome: 'positive', checkedOn }, OFFICER);
  return h.communes.act(communeId, dossierId, 'issue-permit', {}, OFFICER);
}

/** A complete ICT first application (intra-corporate transfer of a manager to Brussels, via Lagos). */
export function ictFirstApplication(overrides: Partial<ApplicationSubmitted> = {}): ApplicationSubmitted {
  // the services' sample (an ICT manager to commune 21004 via Lagos) with a named person, today's dates
  // and the documents the harness stores
  return sampleApplication({
    applicant: {
      familyName: 'Okafor',
      givenNames: 'Adaeze',
      birthDate: '1988-04-12',
      nationality: 'NGA',
      passportNumber: 'A09876543',
      email: 'applicant@example.org',
      passportExpiresOn: '2040-12-31',
    },
    employer: { name: 'Acme Engineering SA', enterpriseNumber: '0403170701', email: 'hr@example.com' },
    requestedPeriod: { from: today(40), to: today(40 + 700) },
    documents: {
      passportCopy: doc(1),
      employmentContract: doc(2),
      healthInsurance: { form: 'employer-undertaking', document: doc(3), coversUntil: '2040-12-31' },
      medicalCertificate: doc(4),
      criminalRecord: doc(5),
    },
    submittedAt: new Date().toISOString(),
    ...overrides,
  });
}

/** Fee proof of `amountCents`. */
export function feeProof(amountCents = 35_800): unknown {
  return {
    proof: doc(99),
    amount: { amountCents, currency: 'EUR' },
    paidOn: today(),
    paymentReference: 'FEE-2027-0001',
    submittedAt: new Date().toISOString(),
  };
}

/** Routing facts of an application, as the portal passes them to `send`. */
export function contextOf(app: ApplicationSubmitted): Record<string, string> {
  return {
    procedure: app.procedure,
    scheme: app.familyMemberOf
      ? 'family'
      : !app.ict
        ? 'standard'
        : app.ict.scheme === 'mobility'
          ? 'ict-mobility'
          : app.ict.scheme === 'short-term-mobility'
            ? 'ict-short-term-mobility'
            : 'ict',
    regionId: app.regionId,
    portalId: PORTAL,
    ...(app.consularPostId ? { consularPostId: app.consularPostId } : {}),
    ...(app.residenceCommuneId ? { communeId: app.residenceCommuneId } : {}),
  };
}

/**
 * The portal completes a mobility dossier with the permit the first member state issued (document `n`),
 * valid until `validUntil`.
 */
export async function addFirstMemberStatePermit(
  h: ProcedureHarness,
  dossierId: string,
  app: ApplicationSubmitted,
  n: number,
  validUntil: string,
): Promise<void> {
  await h.portal.send(
    'documents-added',
    {
      reason: 'completion',
      documents: { firstMemberStatePermit: doc(n) },
      firstMemberStatePermitValidUntil: validUntil,
      addedAt: new Date().toISOString(),
    },
    { dossierId, context: contextOf(app) },
  );
}

/** Files an application and, unless `fee` is null, its fee proof, as the portal does. */
export async function submit(
  h: ProcedureHarness,
  dossierId: string,
  app: ApplicationSubmitted,
  fee: number | null = 35_800,
): Promise<void> {
  const context = contextOf(app) as never;
  await h.portal.send('application-submitted', app, { dossierId, context });
  if (fee !== null) await h.portal.send('fee-proof-submitted', feeProof(fee), { dossierId, context });
}

/** The dossiers a deadline scan refused for an unpaid fee (annex 43 / 43bis). */
export function feeRefusals(runs: readonly DeadlineRun[]): string[] {
  return runs.filter((r) => r.step === 'fee-deadline').map((r) => r.dossierId);
}

/** The family members' decision deadlines a scan reported overrun (Art. 26/2 §3). */
export function overruns(runs: readonly DeadlineRun[]): { dossierId: string; deadline?: string }[] {
  return runs
    .filter((r) => r.step === 'decision-deadline')
    .map((r) => ({ dossierId: r.dossierId, ...(r.deadline ? { deadline: r.deadline } : {}) }));
}

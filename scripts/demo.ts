/**
 * The `pnpm start` demo: sample dossiers submitted through the portal's HTTP API, one per interesting path,
 * with each dossier's progress printed as it happens — meta only (time, type, sender → recipient), read from
 * the exchange's subjects and envelope meta, never from payloads — and every dead letter as it occurs.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Exchange } from '@passerelle/exchange';

/** The commune desk actions the demo performs (a person reporting, the permit handed over). */
export interface DemoCommuneDesk {
  /** A case officer's action (`register-arrival`, `issue-permit`), as every body's service takes it. */
  act(
    communeId: string,
    dossierId: string,
    action: string,
    input: unknown,
    actor: { clientId: string; officerId: string },
  ): Promise<unknown>;
  importPermit(
    communeId: string,
    passportNumber: string,
    permit: {
      permit: 'annex-60' | 'annex-61' | 'single-permit';
      permitNumber: string;
      validity: { from: string; to: string };
    },
  ): Promise<void>;
}

/** Who takes the demo's desk actions at the commune: pseudonymous ids, as a back office would pass them. */
const DEMO_CLERK = { clientId: 'demo', officerId: 'demo-clerk' };

/** What the demo needs. */
export interface DemoOptions {
  /** Base URL of the portal, e.g. `http://127.0.0.1:8080`. */
  portalUrl: string;
  /** An integrator's client credentials (OAuth 2.0 client credentials: id and secret). */
  client: { clientId: string; clientSecret: string };
  /** To watch the exchange's traffic (meta) and dead letters. */
  nc: NatsConnection;
  /** The communes' desk, when the commune service runs (the permit register's import). */
  communes?: DemoCommuneDesk;
  /** The back offices by service name, with the demo system's client credentials at each. */
  backOffices?: Readonly<Record<string, { url: string; client: { clientId: string; clientSecret: string } }>>;
  /**
   * The dossiers the launcher's automatic policies leave to case officers: the demo adds the one it drives
   * through the back offices, before its first decision is owed.
   */
  byHand?: Set<string>;
  /**
   * A consular post that is not hosted by the demo's services: sends a visa for a dossier nobody knows
   * (out of sequence) so a dead letter shows.
   */
  strayPost?: Exchange;
  /** Where lines go (default console.log). */
  print?: (line: string) => void;
  /** Time allowed per waiting step (default 30 s). */
  stepTimeoutMs?: number;
  signal?: AbortSignal;
}

/** How each sample dossier ended. */
export interface DemoResult {
  label: string;
  dossierId?: string;
  state: string;
  ok: boolean;
  messages: number;
}

interface DossierStatus {
  state: string;
  missingItems?: string[];
  closed: boolean;
}

const FEE_CENTS = 35_800;

function isoDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

function time(): string {
  return new Date().toISOString().slice(11, 23);
}

/** A tiny stand-in PDF per document: the portal encrypts it into the object store. */
function fakePdf(kind: string, n: number): Uint8Array {
  return new TextEncoder().encode(`%PDF-1.7\n% demo ${kind} ${n}\n%%EOF\n`);
}

/** A problem the portal answered (RFC 9457), as the demo reports it: status, code, bad inputs. */
interface Problem {
  status?: number;
  code?: string;
  title?: string;
  issues?: { in: string; name: string }[];
}

/**
 * A door as a calling system uses it: a bearer token from the token endpoint (client credentials), taken
 * again before it expires; an `Idempotency-Key` on every POST.
 */
class DoorClient {
  private token: { value: string; until: number } | undefined;

  constructor(
    protected readonly base: string,
    private readonly client: { clientId: string; clientSecret: string },
  ) {}

  private async bearer(): Promise<string> {
    if (this.token && Date.now() < this.token.until) return this.token.value;
    const basic = Buffer.from(
      `${encodeURIComponent(this.client.clientId)}:${encodeURIComponent(this.client.clientSecret)}`,
    ).toString('base64');
    const res = await fetch(`${this.base}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const answer = (await res.json()) as { access_token?: string; expires_in?: number } & Problem;
    if (!res.ok || !answer.access_token) {
      throw new Error(`POST /oauth2/token → ${res.status} ${answer.code ?? answer.title ?? ''}`);
    }
    // taken again a minute before it expires
    const lifetimeMs = Math.max(0, ((answer.expires_in ?? 60) - 60) * 1_000);
    this.token = { value: answer.access_token, until: Date.now() + lifetimeMs };
    return answer.access_token;
  }

  async call<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    headers: Record<string, string> = {},
  ): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await this.bearer()}`,
        ...(body !== undefined ? { 'content-type': contentType } : {}),
        ...(method === 'POST' ? { 'idempotency-key': crypto.randomUUID() } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: body instanceof Uint8Array ? body : JSON.stringify(body) } : {}),
    });
    const answer = (await res.json()) as T & Problem;
    if (!res.ok) {
      const inputs = answer.issues?.map((i) => `${i.in} ${i.name}`).join(', ');
      throw new Error(
        `${method} ${path} → ${res.status} ${answer.code ?? answer.title ?? ''}${inputs ? ` at ${inputs}` : ''}`,
      );
    }
    return answer;
  }
}

/** The portal as an integrator's system uses it. */
class PortalClient extends DoorClient {
  async upload(kind: string, n: number): Promise<Record<string, unknown>> {
    return (
      await this.call<{ document: Record<string, unknown> }>(
        'POST',
        '/v1/documents',
        fakePdf(kind, n),
        'application/pdf',
      )
    ).document;
  }

  submit(application: unknown): Promise<{ dossierId: string }> {
    return this.call('POST', '/v1/dossiers', application);
  }

  addDocuments(dossierId: string, documents: Record<string, unknown>): Promise<unknown> {
    return this.call('POST', `/v1/dossiers/${dossierId}/documents`, {
      reason: 'completion',
      documents,
      addedAt: new Date().toISOString(),
    });
  }

  async payFee(dossierId: string, amountCents: number, n: number): Promise<unknown> {
    return this.call('POST', `/v1/dossiers/${dossierId}/fee-proof`, {
      proof: await this.upload('fee-proof', n),
      amount: { amountCents, currency: 'EUR' },
      paidOn: isoDay(0),
      paymentReference: `DEMO-${n}-${amountCents}`,
      submittedAt: new Date().toISOString(),
    });
  }

  status(dossierId: string): Promise<DossierStatus> {
    return this.call('GET', `/v1/dossiers/${dossierId}`);
  }
}

/** The case officer the demo's back-office actions name: a pseudonymous id, never a name. */
const DEMO_OFFICER = 'off-0de30001';

/**
 * A body's back office as its case-management system uses it: the worklist, the dossier, the actions, each
 * naming the case officer who takes it.
 */
class BackOfficeClient extends DoorClient {
  /** Waits until the worklist owes `action` on the dossier (polled, as a system without webhooks would). */
  async owed(dossierId: string, action: string, timeoutMs: number, aborted: () => boolean): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const page = await this.call<{ items: { dossierId: string; action: string; participantId: string }[] }>(
        'GET',
        `/v1/workItems?pageSize=100&action=${action}`,
      );
      const item = page.items.find((i) => i.dossierId === dossierId);
      if (item) return item.participantId;
      if (aborted()) throw new Error('stopped');
      if (Date.now() > deadline) throw new Error(`${action} not owed after ${timeoutMs} ms at ${this.base}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Waits until the body has the dossier and its phase accepts `action` (an action a person comes for,
   * such as an arrival, is not owed by a deadline and so not in the worklist).
   */
  async accepts(
    participant: string,
    dossierId: string,
    action: string,
    timeoutMs: number,
    aborted: () => boolean,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dossier = await this.call<{ available: { action: string }[] }>(
        'GET',
        `/v1/participants/${participant}/dossiers/${dossierId}`,
      ).catch(() => undefined);
      if (dossier?.available.some((a) => a.action === action)) return;
      if (aborted()) throw new Error('stopped');
      if (Date.now() > deadline)
        throw new Error(`${action} not accepted after ${timeoutMs} ms at ${this.base}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Takes an action on the dossier (`decideWork`…), as the demo's case officer. */
  act(participant: string, dossierId: string, action: string, input: unknown): Promise<{ phase: string }> {
    return this.call(
      'POST',
      `/v1/participants/${participant}/dossiers/${dossierId}/${action}`,
      input,
      'application/json',
      { 'passerelle-officer': DEMO_OFFICER },
    );
  }
}

/**
 * Runs the demo beside a running exchange, then says how far its dossiers got, unless the exchange is
 * stopping meanwhile (Ctrl-C). `communes` is the commune service, when the launcher started one.
 */
export async function runDemoBeside(
  options: Omit<DemoOptions, 'communes'>,
  communes: unknown,
  stopping: () => boolean,
): Promise<void> {
  const desk = communes as DemoCommuneDesk | undefined;
  const results = await runDemo({ ...options, ...(desk ? { communes: desk } : {}) });
  if (!stopping()) {
    console.log(
      `demo finished: ${results.filter((r) => r.ok).length} of ${results.length} dossiers reached their last step; the exchange keeps running (Ctrl-C stops).`,
    );
  }
}

/**
 * Runs the sample dossiers concurrently and resolves when each reached its last expected state (or stalled).
 *
 * @example
 * ```ts
 * const results = await runDemo({ portalUrl, client, nc, communes });
 * ```
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult[]> {
  const print = options.print ?? ((line: string) => console.log(line));
  const stepTimeoutMs = options.stepTimeoutMs ?? 30_000;
  const portal = new PortalClient(options.portalUrl, options.client);
  const backOffice = Object.fromEntries(
    Object.entries(options.backOffices ?? {}).map(([name, b]) => [
      name,
      new BackOfficeClient(b.url, b.client),
    ]),
  ) as Partial<
    Record<'regional-authority' | 'immigration-office' | 'consular-post' | 'commune', BackOfficeClient>
  >;
  const labels = new Map<string, string>();
  const counts = new Map<string, number>();
  const early = new Map<string, ((label: string) => string)[]>();
  const subs: Subscription[] = [];
  const aborted = (): boolean => options.signal?.aborted === true;

  // Progress: every envelope's meta, for the demo's dossiers; every dead letter, whoever it concerns.
  const watch = (
    subject: string,
    onMessage: (subject: string, data: Uint8Array, headers?: { get(k: string): string }) => void,
  ) => {
    const sub = options.nc.subscribe(subject);
    subs.push(sub);
    void (async () => {
      for await (const m of sub) onMessage(m.subject, m.data, m.headers);
    })();
  };
  watch('pex.msg.>', (subject, data) => {
    let dossierId: string | undefined;
    try {
      dossierId = (JSON.parse(new TextDecoder().decode(data)) as { meta?: { dossierId?: string } }).meta
        ?.dossierId;
    } catch {
      return;
    }
    if (!dossierId) return;
    const [, , type = '?', sender = '?', recipient = '?'] = subject.split('.');
    const line = (label: string, at: string): string =>
      `${at}  ${label.padEnd(22)} ${type.padEnd(30)} ${sender} → ${recipient}`;
    const label = labels.get(dossierId);
    if (label) {
      counts.set(dossierId, (counts.get(dossierId) ?? 0) + 1);
      print(line(label, time()));
    } else if (early.size < 1_000) {
      // The application leaves before its HTTP answer names the dossier: held until the answer comes.
      const at = time();
      early.set(dossierId, [...(early.get(dossierId) ?? []), (l) => line(l, at)]);
    }
  });
  watch('pex.dlq.>', (subject, _data, headers) => {
    const code = headers?.get('Pex-Error-Code') ?? '?';
    const reason = headers?.get('Pex-Error-Reason') ?? '';
    const original = (headers?.get('Pex-Original-Subject') ?? '').split('.');
    print(
      `${time()}  DEAD LETTER at ${subject.split('.')[2] ?? '?'}: ${code} — ${original[2] ?? '?'} ${original[3] ?? '?'} → ${original[4] ?? '?'}: ${reason}`,
    );
  });

  const waitFor = async (
    dossierId: string,
    wanted: (s: DossierStatus) => boolean,
    what: string,
  ): Promise<DossierStatus> => {
    const deadline = Date.now() + stepTimeoutMs;
    for (;;) {
      const s = await portal.status(dossierId);
      if (wanted(s)) return s;
      if (aborted()) throw new Error('stopped');
      if (Date.now() > deadline)
        throw new Error(`still ${s.state} after ${stepTimeoutMs} ms, waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  const is =
    (...states: string[]) =>
    (s: DossierStatus) =>
      states.includes(s.state);

  /**
   * After the annex 46: the person enters (after `afterMs`, time for the post's visa where one is needed),
   * reports to the commune, which checks the residence and issues the permit; resolves with the dossier's
   * last state.
   */
  const arriveAndGetPermit = async (
    communes: DemoCommuneDesk,
    communeId: string,
    dossierId: string,
    afterMs: number,
    permit: string,
  ): Promise<string> => {
    await new Promise((r) => setTimeout(r, afterMs));
    if (backOffice.commune) {
      // the commune's back office, over HTTP, as its case-management system would
      await backOffice.commune.accepts(communeId, dossierId, 'register-arrival', stepTimeoutMs, aborted);
      await backOffice.commune.act(communeId, dossierId, 'registerArrival', { enteredOn: isoDay(0) });
      await backOffice.commune.act(communeId, dossierId, 'checkResidence', { outcome: 'positive' });
      await backOffice.commune.act(communeId, dossierId, 'issuePermit', {});
    } else {
      await communes.act(communeId, dossierId, 'register-arrival', { enteredOn: isoDay(0) }, DEMO_CLERK);
      await communes.act(communeId, dossierId, 'check-residence', { outcome: 'positive' }, DEMO_CLERK);
      await communes.act(communeId, dossierId, 'issue-permit', {}, DEMO_CLERK);
    }
    return (await waitFor(dossierId, is('permit-issued'), permit)).state;
  };

  let docNo = 0;
  const documentsFor = async (slots: readonly string[]): Promise<Record<string, unknown>> => {
    const docs: Record<string, unknown> = {};
    for (const slot of slots) {
      const ref = await portal.upload(slot, ++docNo);
      docs[slot] =
        slot === 'healthInsurance'
          ? { form: 'employer-undertaking', document: ref, coversUntil: '2040-12-31' }
          : ref;
    }
    return docs;
  };
  const FIRST_DOCS = [
    'passportCopy',
    'employmentContract',
    'healthInsurance',
    'medicalCertificate',
    'criminalRecord',
  ];
  const person = (n: number) => ({
    // Fictitious people: their data travels only inside encrypted payloads and is never printed.
    familyName: `Exemple-${n}`,
    givenNames: 'Demo',
    birthDate: '1988-04-12',
    nationality: 'TUR',
    passportNumber: `DEMO${String(n).padStart(5, '0')}`,
    email: `applicant${n}@example.org`,
    passportExpiresOn: '2040-12-31',
  });
  const employer = { name: 'Demo Engineering SA', enterpriseNumber: '0403170701', email: 'hr@example.com' };
  /** Submits an application: a first ICT in Brussels, commune 21004, for a year from day 60, but for `fields`. */
  const submitApplication = async (
    fields: Record<string, unknown>,
    track: (id: string) => void,
  ): Promise<string> => {
    const { dossierId } = await portal.submit({
      category: 'ict',
      procedure: 'first',
      regionId: 'region-bruxelles',
      workplaceCommuneId: 'commune-21004',
      employer,
      requestedPeriod: { from: isoDay(60), to: isoDay(60 + 365) },
      submittedAt: new Date().toISOString(),
      ...fields,
    });
    track(dossierId);
    return dossierId;
  };

  const paths: { label: string; run: (track: (id: string) => void) => Promise<string> }[] = [
    {
      label: 'ict-first-granted',
      run: async (track) => {
        const dossierId = await submitApplication(
          {
            residenceCommuneId: 'commune-21004',
            consularPostId: 'post-ankara',
            ict: { scheme: 'transfer', role: 'manager', priorIctStayInLast3Years: false },
            applicant: person(1),
            requestedPeriod: { from: isoDay(60), to: isoDay(60 + 365 * 2) },
            documents: await documentsFor(FIRST_DOCS),
          },
          track,
        );
        await portal.payFee(dossierId, FEE_CENTS, ++docNo);
        await waitFor(dossierId, is('residence-granted'), 'annex 46');
        if (!options.communes) return (await portal.status(dossierId)).state;
        // The visa is issued by the post on annex 46; then the person enters and reports to the commune.
        return arriveAndGetPermit(options.communes, 'commune-21004', dossierId, 1_000, 'the annex 60 permit');
      },
    },
    ...(backOffice['regional-authority'] &&
    backOffice['immigration-office'] &&
    backOffice['consular-post'] &&
    options.byHand
      ? [
          {
            label: 'by-case-officers',
            run: async (track: (id: string) => void) => {
              const region = backOffice['regional-authority']!;
              const office = backOffice['immigration-office']!;
              const post = backOffice['consular-post']!;
              const dossierId = await submitApplication(
                {
                  residenceCommuneId: 'commune-21004',
                  consularPostId: 'post-ankara',
                  ict: { scheme: 'transfer', role: 'specialist', priorIctStayInLast3Years: false },
                  applicant: person(6),
                  documents: await documentsFor(FIRST_DOCS),
                },
                track,
              );
              // no policy decides this one: each body's case officer does, through its back office
              options.byHand!.add(dossierId);
              await portal.payFee(dossierId, FEE_CENTS, ++docNo);
              const regionId = await region.owed(dossierId, 'decide-work', stepTimeoutMs, aborted);
              await region.act(regionId, dossierId, 'decideWork', {
                decision: 'granted',
                period: { from: isoDay(60), to: isoDay(60 + 365) },
              });
              print(
                `demo: by-case-officers: ${regionId} decided the work authorisation through its back office`,
              );
              await office.owed(dossierId, 'decide-residence', stepTimeoutMs, aborted);
              await office.act('immigration-office', dossierId, 'decideResidence', { decision: 'granted' });
              print(
                'demo: by-case-officers: the Immigration Office granted residence through its back office',
              );
              const postId = await post.owed(dossierId, 'issue-visa', stepTimeoutMs, aborted);
              await post.act(postId, dossierId, 'issueVisa', {});
              print(`demo: by-case-officers: ${postId} issued the visa through its back office`);
              await waitFor(dossierId, is('residence-granted', 'visa-issued'), 'annex 46');
              if (!options.communes) return (await portal.status(dossierId)).state;
              return arriveAndGetPermit(options.communes, 'commune-21004', dossierId, 0, 'the permit');
            },
          },
        ]
      : []),
    {
      label: 'missing-then-completed',
      run: async (track) => {
        const docs = await documentsFor(FIRST_DOCS.filter((d) => d !== 'passportCopy'));
        const dossierId = await submitApplication(
          {
            category: 'single-permit',
            regionId: 'region-wallonie',
            workplaceCommuneId: 'commune-62063',
            consularPostId: 'post-kinshasa',
            applicant: person(2),
            documents: docs,
          },
          track,
        );
        await portal.payFee(dossierId, FEE_CENTS, ++docNo);
        const asked = await waitFor(
          dossierId,
          is('missing-items'),
          'the region to ask for the passport copy',
        );
        await portal.addDocuments(dossierId, await documentsFor(asked.missingItems ?? ['passportCopy']));
        return (await waitFor(dossierId, is('residence-granted'), 'annex 46')).state;
      },
    },
    {
      label: 'wrong-fee-then-paid',
      run: async (track) => {
        const dossierId = await submitApplication(
          {
            consularPostId: 'post-ankara',
            ict: { scheme: 'transfer', role: 'specialist', priorIctStayInLast3Years: false },
            applicant: person(3),
            documents: await documentsFor(FIRST_DOCS),
          },
          track,
        );
        await portal.payFee(dossierId, 20_000, ++docNo);
        await waitFor(
          dossierId,
          is('fee-payment-requested'),
          'the Immigration Office to ask for the balance',
        );
        await portal.payFee(dossierId, FEE_CENTS - 20_000, ++docNo);
        return (await waitFor(dossierId, is('residence-granted'), 'annex 46')).state;
      },
    },
    {
      label: 'long-term-mobility',
      run: async (track) => {
        const dossierId = await submitApplication(
          {
            regionId: 'region-wallonie',
            workplaceCommuneId: 'commune-62063',
            residenceCommuneId: 'commune-62063',
            ict: {
              scheme: 'mobility',
              role: 'specialist',
              priorIctStayInLast3Years: false,
              firstMemberState: {
                country: 'DE',
                permitValidUntil: isoDay(60 + 500),
                address: { street: 'Beispielstrasse 1', postalCode: '10115', city: 'Berlin', country: 'DE' },
              },
            },
            applicant: person(4),
            documents: await documentsFor([
              'passportCopy',
              'employmentContract',
              'healthInsurance',
              'firstMemberStatePermit',
              'criminalRecord',
            ]),
          },
          track,
        );
        await portal.payFee(dossierId, FEE_CENTS, ++docNo);
        await waitFor(dossierId, is('residence-granted'), 'annex 46 (no visa: mobility)');
        if (!options.communes) return (await portal.status(dossierId)).state;
        return arriveAndGetPermit(options.communes, 'commune-62063', dossierId, 500, 'the annex 61 permit');
      },
    },
    {
      label: 'renewal',
      run: async (track) => {
        const applicant = person(5);
        // The permit being renewed, as the commune's register holds it.
        await options.communes?.importPermit('commune-21004', applicant.passportNumber, {
          permit: 'annex-60',
          permitNumber: 'A60-DEMO-00005',
          validity: { from: isoDay(-300), to: isoDay(65) },
        });
        const dossierId = await submitApplication(
          {
            procedure: 'renewal',
            residenceCommuneId: 'commune-21004',
            ict: {
              scheme: 'transfer',
              role: 'manager',
              priorIctStayInLast3Years: true,
              // Art. 105/45 §1 3°: the stay of the permit being renewed counts towards the maximum
              priorIctStays: [{ from: isoDay(-300), to: isoDay(65) }],
            },
            applicant,
            requestedPeriod: { from: isoDay(66), to: isoDay(66 + 365) },
            documents: await documentsFor([
              'passportCopy',
              'currentPermit',
              'employmentContract',
              'healthInsurance',
            ]),
          },
          track,
        );
        await portal.payFee(dossierId, FEE_CENTS, ++docNo);
        const want = options.communes ? 'permit-renewed' : 'residence-granted';
        return (
          await waitFor(dossierId, is(want), want === 'permit-renewed' ? 'the renewed permit' : 'annex 46')
        ).state;
      },
    },
  ];

  print(`demo: ${paths.length} sample dossiers through the portal at ${options.portalUrl}`);
  print('demo: progress shows meta only (time, dossier, type, sender → recipient); payloads stay encrypted');
  const results = await Promise.all(
    paths.map(async ({ label, run }): Promise<DemoResult> => {
      let id: string | undefined;
      try {
        const state = await run((dossierId) => {
          id = dossierId;
          labels.set(dossierId, label);
          print(`demo: ${label} is dossier ${dossierId}`);
          for (const held of early.get(dossierId) ?? []) {
            counts.set(dossierId, (counts.get(dossierId) ?? 0) + 1);
            print(held(label));
          }
          early.delete(dossierId);
        });
        return {
          label,
          ...(id ? { dossierId: id } : {}),
          state,
          ok: true,
          messages: id ? (counts.get(id) ?? 0) : 0,
        };
      } catch (err) {
        if (!aborted()) print(`demo: ${label} stopped: ${(err as Error).message}`);
        return {
          label,
          ...(id ? { dossierId: id } : {}),
          state: 'stalled',
          ok: false,
          messages: id ? (counts.get(id) ?? 0) : 0,
        };
      }
    }),
  );

  // Bad input: a visa for a dossier nobody opened, from a post the Immigration Office knows.
  if (options.strayPost && !aborted()) {
    print('demo: a consular post sends a visa for a dossier no one opened (out of sequence)…');
    await options.strayPost
      .send(
        'visa-issued',
        {
          visaType: 'D',
          visaNumber: 'BEL000000001',
          issuedOn: isoDay(0),
          validity: { from: isoDay(0), to: isoDay(90) },
        },
        { to: 'immigration-office', dossierId: 'no-such-dossier-0001' },
      )
      .catch((err: unknown) => print(`demo: the stray visa was refused at send: ${(err as Error).message}`));
    await new Promise((r) => setTimeout(r, 1_500));
  }

  for (const sub of subs) sub.unsubscribe();
  print('demo: summary');
  for (const r of results) {
    print(
      `  ${r.ok ? '✓' : '✗'} ${r.label.padEnd(24)} ${r.state.padEnd(18)} ${String(r.messages).padStart(3)} messages  ${r.dossierId ?? ''}`,
    );
  }
  if (results[0]?.dossierId) print(`demo: try \`pnpm passerelle dossier trace ${results[0].dossierId}\``);
  return results;
}

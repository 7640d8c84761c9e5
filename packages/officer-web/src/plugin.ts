import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import { type InputIssue } from '@passerelle/door';
import { toProblem } from '@passerelle/door/internal';
import { isPasserelleError } from '@passerelle/errors';
import type { ActionDescriptor, JsonSchema } from '@passerelle/procedure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OFFICER_CSS } from './assets.js';
import { FormChecker, definitionsResolver } from './definitions.js';
import type { OfficerDesk } from './desk.js';
import type { OfficerAccounts } from './officer-accounts.js';
import {
  type DecisionForm,
  type PageContext,
  dossierPage,
  dossierPath,
  errorPage,
  signInPage,
  worklistPage,
} from './pages.js';
import {
  type PostedForm,
  type SchemaForm,
  buildSchemaForm,
  nodeForPointer,
  readSchemaForm,
} from './schema-form.js';
import { type OfficerSession, type SessionLimits, SessionStore } from './sessions.js';
import type { TimelineEntry, TimelineSource } from './timeline.js';

/** Options of {@link officerWebPlugin}. */
export interface OfficerWebOptions {
  /** The body service the page drives, in the same process (a `BodyService`). */
  desk: OfficerDesk;
  /** The officer accounts of this body. */
  accounts: OfficerAccounts;
  /** The shared definitions the actions' input schemas refer to (`contracts.definitions()`' schemas). */
  definitions: readonly JsonSchema[];
  /** Where the dossier's timeline comes from (see `exchangeTimeline`); without it, none is shown. */
  timeline?: TimelineSource;
  /** Signs the anti-forgery cookie: 32 random bytes or more, the same across restarts or not. */
  cookieSecret: string | Buffer;
  /**
   * Cookies only over HTTPS, named with the `__Host-` prefix (default true). False only where the page is
   * served over plain HTTP on loopback (tests, a developer's machine).
   */
  secureCookies?: boolean;
  /** The client id decisions record beside the officer's id (default `officer-web`). */
  clientId?: string;
  /** Session lifetimes (idle 30 minutes, at most 8 hours by default). */
  sessions?: Partial<SessionLimits>;
  /** Sign-in attempts allowed per address and minute (default 10). */
  signInAttemptsPerMinute?: number;
}

const PARTICIPANT = /^[a-z][a-z0-9-]{1,63}$/;
const DOSSIER_ID = /^[A-Za-z0-9-]{8,64}$/;
const ACTION = /^[a-z][a-z0-9-]{0,63}$/;
const STEP_ID = /^[A-Za-z0-9-]{8,64}$/;

/** The strict Content-Security-Policy of every answer: nothing but this origin's stylesheet and forms. */
export const OFFICER_CSP_DIRECTIVES = {
  defaultSrc: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
} as const;

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * A case officer's web page for one body, as a fastify plugin over its body service in the same process:
 * sign-in with an officer account (scrypt hashes, a session cookie that is HttpOnly, SameSite=Strict and
 * Secure), the worklist with legal deadlines, a dossier's timeline as swim lanes, and a decision form per
 * action the dossier accepts, generated from the action's JSON Schema; each decision records the officer's
 * pseudonymous id. Every form carries an anti-forgery token (`@fastify/csrf-protection`); every answer a
 * strict CSP (`@fastify/helmet`: no script at all, styles from this origin). Nothing typed into a form and
 * no personal data is logged.
 *
 * @example
 * ```ts
 * const app = fastify({ logger: { level: 'info' } });
 * await app.register(officerWebPlugin, { desk: service, accounts, definitions, cookieSecret });
 * ```
 */
export async function officerWebPlugin(app: FastifyInstance, options: OfficerWebOptions): Promise<void> {
  const secure = options.secureCookies !== false;
  const cookieOpts = { path: '/', httpOnly: true, sameSite: 'strict' as const, secure };
  await registerProtections(app, options, secure, cookieOpts);
  const web = officerWeb(app, options, secure, cookieOpts);
  registerErrorHandler(web);
  registerSessionRoutes(web);
  registerWorklistRoutes(web);
  registerDossierRoute(web);
  registerDecisionRoute(web);
}

type CookieOptions = { path: string; httpOnly: boolean; sameSite: 'strict'; secure: boolean };

/** What every route of the page shares: the body, its actions' forms, the sessions and the page helpers. */
interface OfficerWeb {
  app: FastifyInstance;
  options: OfficerWebOptions;
  desk: OfficerDesk;
  base: string;
  sessionCookie: string;
  cookieOpts: CookieOptions;
  sessions: SessionStore;
  actions: ReadonlyMap<string, ActionDescriptor>;
  titles: ReadonlyMap<string, string>;
  forms: ReadonlyMap<string, SchemaForm>;
  csrfProtection: FastifyInstance['csrfProtection'];
  context: (reply: FastifyReply, session?: OfficerSession) => PageContext;
  sendPage: (reply: FastifyReply, status: number, page: string) => FastifyReply;
  /** The signed-in officer: a live session of an account still enabled, for the ids it may still act for. */
  officerOf: (req: FastifyRequest) => Promise<OfficerSession | undefined>;
  /** The signed-in officer, or the sign-in page (a redirect for a GET, a 401 page otherwise). */
  signedIn: (req: FastifyRequest, reply: FastifyReply) => Promise<OfficerSession | undefined>;
}

/** The plugins that guard every answer (CSP, cookies, anti-forgery, rate limits), registered before any route. */
async function registerProtections(
  app: FastifyInstance,
  options: OfficerWebOptions,
  secure: boolean,
  cookieOpts: CookieOptions,
): Promise<void> {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: { useDefaults: false, directives: OFFICER_CSP_DIRECTIVES },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: secure,
  });
  await app.register(fastifyCookie, { secret: options.cookieSecret });
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: secure ? '__Host-pex_csrf' : 'pex_csrf',
    cookieOpts: { ...cookieOpts, signed: true },
  });
  await app.register(fastifyRateLimit, { global: false });
  app.addHook('onSend', async (_req, reply, payload) => {
    // pages hold personal data: never stored by a browser or a proxy
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
}

/** The shared state and helpers of the routes, built once the protections are registered. */
function officerWeb(
  app: FastifyInstance,
  options: OfficerWebOptions,
  secure: boolean,
  cookieOpts: CookieOptions,
): OfficerWeb {
  const { desk, accounts } = options;
  const sessionCookie = secure ? '__Host-pex_officer' : 'pex_officer';
  const sessions = new SessionStore(options.sessions);
  const resolve = definitionsResolver(options.definitions);
  const actions = new Map(desk.actions().map((a) => [a.name, a] as const));
  const base = app.prefix;
  const context = (reply: FastifyReply, session?: OfficerSession): PageContext => ({
    base,
    service: desk.service,
    csrf: reply.generateCsrf(),
    ...(session ? { session } : {}),
  });
  const sendPage = (reply: FastifyReply, status: number, page: string): FastifyReply =>
    reply.code(status).type('text/html; charset=utf-8').send(page);
  const officerOf = async (req: FastifyRequest): Promise<OfficerSession | undefined> => {
    const id = req.cookies[sessionCookie];
    const session = sessions.get(id);
    if (!session) return undefined;
    const account = await accounts.find(session.officerId);
    const participants = account?.participants.filter((p) => desk.participants.includes(p)) ?? [];
    if (!account || participants.length === 0) {
      sessions.closeOfficer(session.officerId);
      return undefined;
    }
    return { officerId: account.officerId, participants };
  };
  const signedIn = async (req: FastifyRequest, reply: FastifyReply): Promise<OfficerSession | undefined> => {
    const session = await officerOf(req);
    if (session) return session;
    if (req.method === 'GET') void reply.redirect(`${base}/sign-in`, 303);
    else sendPage(reply, 401, signInPage(context(reply), 'Your session has ended: sign in again.'));
    return undefined;
  };
  return {
    app,
    options,
    desk,
    base,
    sessionCookie,
    cookieOpts,
    sessions,
    actions,
    titles: new Map([...actions.values()].map((a) => [a.name, a.title] as const)),
    forms: new Map<string, SchemaForm>(
      [...actions.values()].map((a) => [a.name, buildSchemaForm(`act-${a.name}`, a.input, resolve)] as const),
    ),
    csrfProtection: app.csrfProtection.bind(app),
    context,
    sendPage,
    officerOf,
    signedIn,
  };
}

/** Every failure as a page with its code; a 5xx logs the error's name and code only, never its message. */
function registerErrorHandler({ app, context, sendPage, officerOf }: OfficerWeb): void {
  app.setErrorHandler(async (err: { code?: string; statusCode?: number; name?: string }, req, reply) => {
    const session = await officerOf(req).catch(() => undefined);
    if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
      req.log.warn({ code: 'ERR_CSRF_TOKEN_INVALID' }, 'officer page: a form without its anti-forgery token');
      return sendPage(
        reply,
        403,
        errorPage(
          context(reply, session),
          'Form refused',
          'This form did not come from this page, or it has expired: nothing was recorded. Open the page again and send the form from there.',
          'ERR_CSRF_TOKEN_INVALID',
        ),
      );
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status === 429)
      return sendPage(
        reply,
        429,
        errorPage(
          context(reply, session),
          'Too many attempts',
          'Too many attempts: wait a minute and try again.',
          'ERR_RATE_LIMITED',
        ),
      );
    if (status < 500)
      return sendPage(
        reply,
        status,
        errorPage(context(reply, session), 'Request refused', 'The request is malformed.'),
      );
    // the error's name and code only: its message may quote what a dossier holds
    req.log.error({ err: { name: err.name, code: err.code } }, 'officer page failed');
    return sendPage(
      reply,
      500,
      errorPage(context(reply, session), 'Something went wrong', 'The page could not be made. Try again.'),
    );
  });
}

/** The stylesheet, sign-in and sign-out: the only routes open without a session. */
function registerSessionRoutes(web: OfficerWeb): void {
  const { app, options, base, sessions, sessionCookie, cookieOpts, context, sendPage, officerOf } = web;
  const { desk, accounts } = options;
  app.get('/static/officer.css', async (_req, reply) =>
    reply.header('cache-control', 'max-age=3600').type('text/css; charset=utf-8').send(OFFICER_CSS),
  );

  app.get('/sign-in', async (req, reply) => {
    if (await officerOf(req)) return reply.redirect(`${base}/`, 303);
    return sendPage(reply, 200, signInPage(context(reply)));
  });

  app.post(
    '/sign-in',
    {
      preHandler: web.csrfProtection,
      config: { rateLimit: { max: options.signInAttemptsPerMinute ?? 10, timeWindow: 60_000 } },
    },
    async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const officerId = text(body['officerId']).trim().slice(0, 128);
      const password = text(body['password']).slice(0, 1024);
      const account = await accounts.signIn(officerId, password);
      const participants = account?.participants.filter((p) => desk.participants.includes(p)) ?? [];
      if (!account || participants.length === 0) {
        // what was typed is not logged: an officer may type a name into the wrong field
        req.log.info({ code: 'ERR_OFFICER_SIGN_IN_FAILED' }, 'officer sign-in refused');
        return sendPage(
          reply,
          401,
          signInPage(
            context(reply),
            'The officer id or the password is not right, or the account cannot sign in here.',
          ),
        );
      }
      reply.clearCookie(sessionCookie, cookieOpts);
      const id = sessions.open({ officerId: account.officerId, participants });
      reply.setCookie(sessionCookie, id, cookieOpts);
      req.log.info({ officerId: account.officerId }, 'officer signed in');
      return reply.redirect(`${base}/`, 303);
    },
  );

  app.post('/sign-out', { preHandler: web.csrfProtection }, async (req, reply) => {
    sessions.close(req.cookies[sessionCookie]);
    reply.clearCookie(sessionCookie, cookieOpts);
    return reply.redirect(`${base}/sign-in`, 303);
  });
}

/** The worklist and the search by dossier id, both over every participant the officer acts for. */
function registerWorklistRoutes({ app, desk, base, titles, context, sendPage, signedIn }: OfficerWeb): void {
  app.get('/', async (req, reply) => {
    const session = await signedIn(req, reply);
    if (!session) return reply;
    const items = (
      await Promise.all(session.participants.map((participant) => desk.worklist({ participant })))
    ).flat();
    const rank = (i: { workingDaysLeft?: number }): number => i.workingDaysLeft ?? Number.POSITIVE_INFINITY;
    items.sort((a, b) => rank(a) - rank(b) || a.dossierId.localeCompare(b.dossierId));
    return sendPage(reply, 200, worklistPage(context(reply, session), items, titles, session.participants));
  });

  app.get('/dossiers', async (req, reply) => {
    const session = await signedIn(req, reply);
    if (!session) return reply;
    const query = req.query as Record<string, unknown>;
    const participant = text(query['participant']);
    const id = text(query['id']).trim();
    if (!session.participants.includes(participant) || !DOSSIER_ID.test(id))
      return sendPage(
        reply,
        400,
        errorPage(
          context(reply, session),
          'No such dossier',
          'A dossier id has 8 to 64 letters, digits and dashes.',
        ),
      );
    return reply.redirect(dossierPath(base, participant, id), 303);
  });
}

/** The dossier named by the path, if the officer may see it. */
function dossierParams(
  req: FastifyRequest,
  session: OfficerSession,
): { participant: string; dossierId: string } | undefined {
  const p = req.params as Record<string, string>;
  const participant = p['participant'] ?? '';
  const dossierId = p['dossierId'] ?? '';
  if (!PARTICIPANT.test(participant) || !session.participants.includes(participant)) return undefined;
  if (!DOSSIER_ID.test(dossierId)) return undefined;
  return { participant, dossierId };
}

/** The dossier's timeline, or none when it cannot be read: the page still shows the rest of the dossier. */
function readTimeline(
  options: OfficerWebOptions,
  reply: FastifyReply,
  participant: string,
  dossierId: string,
): Promise<readonly TimelineEntry[] | undefined> {
  if (!options.timeline) return Promise.resolve(undefined);
  return options.timeline(participant, dossierId).catch((err: unknown) => {
    reply.log.warn(
      {
        participant,
        dossierId,
        err: { name: (err as Error).name, code: (err as { code?: unknown }).code },
      },
      'officer page: the timeline could not be read',
    );
    return undefined;
  });
}

/** The dossier page with a fresh form per open action, or the failed form shown again with its issues. */
async function renderDossier(
  web: OfficerWeb,
  reply: FastifyReply,
  session: OfficerSession,
  participant: string,
  dossierId: string,
  status: number,
  extra: { recorded?: string; failed?: { action: string; form: DecisionForm } } = {},
): Promise<FastifyReply> {
  const { desk, actions, forms, titles } = web;
  const [dossier, available, timeline] = await Promise.all([
    desk.dossier(participant, dossierId),
    desk.available(participant, dossierId),
    readTimeline(web.options, reply, participant, dossierId),
  ]);
  const decisionForms: DecisionForm[] = available
    .filter((name) => actions.has(name))
    .map((name) =>
      extra.failed?.action === name
        ? extra.failed.form
        : { action: actions.get(name)!, form: forms.get(name)!, stepId: randomUUID() },
    );
  if (extra.failed && !available.includes(extra.failed.action)) decisionForms.push(extra.failed.form);
  return web.sendPage(
    reply,
    status,
    dossierPage(web.context(reply, session), {
      participant,
      dossierId,
      dossier,
      timeline,
      forms: decisionForms,
      titles,
      ...(extra.recorded ? { recorded: extra.recorded } : {}),
    }),
  );
}

/** A dossier's page, with the notice of the decision just recorded if the query names one. */
function registerDossierRoute(web: OfficerWeb): void {
  const { app, actions, context, sendPage, signedIn } = web;
  app.get('/dossiers/:participant/:dossierId', async (req, reply) => {
    const session = await signedIn(req, reply);
    if (!session) return reply;
    const named = dossierParams(req, session);
    if (!named)
      return sendPage(
        reply,
        404,
        errorPage(context(reply, session), 'No such dossier', 'No dossier of yours has this id.'),
      );
    const recorded = text((req.query as Record<string, unknown>)['recorded']);
    return renderDossier(web, reply, session, named.participant, named.dossierId, 200, {
      ...(actions.has(recorded) ? { recorded } : {}),
    });
  });
}

/** A decision: the session, then the form's token, then the input against the action's schema, then the act. */
function registerDecisionRoute(web: OfficerWeb): void {
  const { app, desk, base, actions, forms, options, context, sendPage, signedIn } = web;
  const clientId = options.clientId ?? 'officer-web';
  const checker = new FormChecker(options.definitions);
  app.post('/dossiers/:participant/:dossierId/actions/:action', async (req, reply) => {
    const session = await signedIn(req, reply);
    if (!session) return reply;
    // the session first, then the form's token: a form of another site is refused before anything is read
    await new Promise<void>((resolve, reject) =>
      app.csrfProtection(req, reply, (err?: Error) => (err ? reject(err) : resolve())),
    );
    if (reply.sent) return reply;
    const named = dossierParams(req, session);
    const name = (req.params as Record<string, string>)['action'] ?? '';
    const action = ACTION.test(name) ? actions.get(name) : undefined;
    if (!named || !action)
      return sendPage(
        reply,
        404,
        errorPage(context(reply, session), 'No such dossier', 'No dossier of yours has this id.'),
      );
    const posted = (req.body ?? {}) as PostedForm;
    const form = forms.get(action.name)!;
    const stepIdRaw = text(posted['_stepId']);
    const stepId = STEP_ID.test(stepIdRaw) ? stepIdRaw : randomUUID();
    const { input, schema } = readSchemaForm(form, posted);
    const refuse = (
      status: number,
      issues: readonly InputIssue[],
      formErrors: string[],
    ): Promise<FastifyReply> =>
      renderDossier(web, reply, session, named.participant, named.dossierId, status, {
        failed: { action: action.name, form: failedForm(action, form, stepId, posted, issues, formErrors) },
      });
    const issues = checker.issues(schema, input);
    if (issues.length > 0) return refuse(400, issues, []);
    try {
      await desk.act(
        named.participant,
        named.dossierId,
        action.name,
        input,
        {
          clientId,
          officerId: session.officerId,
        },
        { stepId },
      );
    } catch (err) {
      if (isPasserelleError(err, 'ERR_ACTION_INPUT_INVALID'))
        return refuse(400, [], ['The input does not fit this action; check the fields and send it again.']);
      const { problem } = toProblem(err, { realm: desk.service });
      if (problem.status >= 500)
        req.log.error(
          { err: { name: (err as Error).name, code: (err as { code?: unknown }).code } },
          'officer action failed',
        );
      const said = problem.detail ?? problem.title;
      return refuse(
        problem.status,
        problem.issues ?? [],
        problem.issues?.length ? [] : [problem.code ? `${said} (${problem.code})` : said],
      );
    }
    req.log.info(
      {
        participant: named.participant,
        dossierId: named.dossierId,
        action: action.name,
        officerId: session.officerId,
      },
      'officer decision recorded',
    );
    return reply.redirect(
      `${dossierPath(base, named.participant, named.dossierId)}?recorded=${action.name}`,
      303,
    );
  });
}

/** A decision form shown again with the values posted and each issue beside the field its pointer names. */
function failedForm(
  action: ActionDescriptor,
  form: SchemaForm,
  stepId: string,
  posted: PostedForm,
  issues: readonly InputIssue[],
  formErrors: string[],
): DecisionForm {
  const errors = new Map<string, string[]>();
  const top = [...formErrors];
  for (const issue of issues) {
    const node = issue.in === 'body' ? nodeForPointer(form, posted, issue.name) : undefined;
    if (!node) {
      top.push(issue.detail);
      continue;
    }
    // the door's sentence names the pointer; beside the field its label reads better
    const detail = issue.detail.startsWith(issue.name)
      ? `${node.label}${issue.detail.slice(issue.name.length)}`
      : issue.detail;
    errors.set(node.id, [...(errors.get(node.id) ?? []), detail]);
  }
  return { action, form, stepId, state: { posted, errors, formErrors: top } };
}

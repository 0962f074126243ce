// The site foundation: one Fastify server with what every login realm shares and nothing about any
// of them — security headers (CSP), form bodies, signed cookies, sessions in PostgreSQL, CSRF bound
// to the session (csrf.ts), rate limits counted in PostgreSQL, templates with auto-escaping, the
// Japanese error page for every 4xx/5xx, and the listener's connection caps, deadlines and body
// limit (src/web/connection-limits.ts).
//
// A login realm (pattern A's 設定サイト, the legacy site, the hand-over, 回線情報通知) is a Realm:
// one encapsulated plugin under its own prefix with its own frame (brand, home, logout), login
// hook and page sets. src/site/index.ts lists them.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySession from '@fastify/session';
import proxyAddr from '@fastify/proxy-addr';
import { Eta } from 'eta';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logger.ts';
import { writeAudit, type AuditEntry } from '../store/audit.ts';
import { pruneLoginThrottle } from '../store/login-throttle.ts';
import { pruneRateLimits } from '../store/rate-limit.ts';
import { deadlineOptions, limitConnections } from '../web/connection-limits.ts';
import { csrfProtection, type Csrf } from './csrf.ts';
import { ERROR_TEXT, errorText, isCsrfError } from './errors.ts';
import { pgRateLimitStore } from './rate-limit-store.ts';
import { pgSessionStore } from './session-store.ts';
import { openSession, ownerOf, sessionOf, type SessionCheck, type SessionLimits, type SessionOwner } from './session.ts';

const FALLBACK_PAGE =
  '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>エラー</title></head><body><h1>エラー</h1><p>ただいま処理できません。しばらくしてから、もう一度お試しください。</p></body></html>';

export const VIEWS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'views');
export const STYLESHEET_PATH = '/static/site.css';

export interface SiteDeps {
  pool: pg.Pool;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Where the listener's connection metrics go (the service's registry). */
  registry?: Registry;
}

/** What frames every page of a realm: the header's brand and home, the logout button. */
export interface Frame {
  brand: string;
  /** The realm's first page (the brand links there; error pages lead back to it). */
  home: string;
  /** The logged-in pages' logout button (absent: the realm ends its sessions from a page of its own). */
  logout?: { action: string; label: string };
  /** Stylesheets beyond the site's own. */
  stylesheets?: string[];
}

/** A login realm: one encapsulated plugin with its own prefix, frame, login hook and pages. */
export interface Realm {
  /** Stored with the sessions it opens (session.realm), and what its pages check a session against. */
  name: string;
  prefix: string;
  /** Paths under this answer JSON (an API for machines), never the site's pages. */
  apiPrefix?: string;
  frame: Frame;
  register(app: FastifyInstance, site: SiteContext): Promise<void> | void;
}

/** What the foundation gives a realm. */
export interface SiteContext {
  deps: SiteDeps;
  limits: SessionLimits;
  /** Renders views/<view>.eta inside the layout with the realm's frame; `data` is auto-escaped. */
  render(req: FastifyRequest, reply: FastifyReply, view: string, data?: Record<string, unknown>, status?: number): FastifyReply;
  /** The Japanese error page (the realm's frame), with the standard text for the status unless given. */
  errorPage(req: FastifyRequest, reply: FastifyReply, status: number, text?: { title?: string; message: string }): FastifyReply;
  audit(req: FastifyRequest, e: Omit<AuditEntry, 'at' | 'source' | 'actor'> & { actor?: string }, db?: pg.PoolClient): Promise<void>;
  /** The session's owner if it was opened by `realm` and is within the limits (an expired one is ended). */
  sessionOf(req: FastifyRequest, realm: string): Promise<SessionCheck>;
  /** The site's public URL, the origin of every mailed link: site.publicUrl, else the listener's own address. */
  publicUrl(): string;
  /** Opens a login's session, or renews it at a privilege change: a new id, a new CSRF secret, the owner. */
  openSession(req: FastifyRequest, reply: FastifyReply, owner: Omit<SessionOwner, 'at' | 'lastSeen'> & { at?: number }): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is logged in, as the header says 「ログイン中」 (set by a realm's login hook). */
    who: string | null;
  }
}

/** The listener's own address (embedded defaults: the catcher keeps the mail on this machine). */
function listenerUrl(app: FastifyInstance): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = typeof address === 'object' && address ? address.address : '127.0.0.1';
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/** The session's owner as the header names it, if the session belongs to `realm`. */
const whoOf = (req: FastifyRequest, realm: string | undefined): string | null => {
  const owner = ownerOf(req);
  return owner && owner.realm === realm ? (owner.number ?? owner.customerId ?? null) : null;
};

/** Who did it, for the audit: the session's owner, or anonymous. */
const actorOf = (req: FastifyRequest) => {
  const owner = ownerOf(req);
  return owner?.number ?? owner?.customerId ?? 'anonymous';
};

export async function buildSite(deps: SiteDeps, realms: Realm[]): Promise<FastifyInstance> {
  const { config, clock } = deps;
  const site = config.site;
  const limits: SessionLimits = { idleMs: site.idleTimeoutMin * 60_000, absoluteMs: site.absoluteTimeoutHours * 3_600_000 };
  // The configured reverse proxies: the only peers whose X-Forwarded-For/-Proto are believed, and
  // not held to the per-address connection cap (one proxy address carries every client).
  const trustedProxy = site.trustedProxies.length ? proxyAddr.compile(site.trustedProxies) : undefined;
  // Longest prefix first: a request belongs to the realm whose prefix it is under.
  const byPrefix = [...realms].sort((a, b) => b.prefix.length - a.prefix.length);
  const realmOf = (url: string) => byPrefix.find((r) => url === r.prefix || url.startsWith(`${r.prefix}/`) || r.prefix === '');

  let pageError: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => FastifyReply;
  const app = Fastify({
    trustProxy: trustedProxy ?? false,
    loggerInstance: deps.logger.child({ part: 'site' }) as FastifyBaseLogger,
    // Request lines carry no secrets, but request logging at 1,000 req/s is noise; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: site.bodyLimitBytes,
    // Fastify sets these two on the server itself (its defaults: 72 s and none).
    keepAliveTimeout: site.keepAliveTimeoutMs,
    requestTimeout: site.requestTimeoutMs,
    http: deadlineOptions(site),
    // A URL the router cannot read (`GET /%`): the site's page (or an API's JSON), not Fastify's.
    frameworkErrors: (err, req, reply) => {
      const api = realms.find((r) => r.apiPrefix && req.url.startsWith(r.apiPrefix));
      if (api) return (reply as FastifyReply).code(400).type('application/json; charset=utf-8').header('cache-control', 'no-store').send('{"error":"bad_request"}');
      return pageError(err, req, reply);
    },
  });
  limitConnections(app.server, {
    listener: 'site', limits: site, registry: deps.registry, ...(trustedProxy ? { exempt: (address: string) => trustedProxy(address, 0) } : {}),
  });

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
  });
  await app.register(fastifyFormbody);
  const secret = site.sessionSecret ?? randomBytes(32).toString('base64url');
  await app.register(fastifyCookie, { secret });
  const store = pgSessionStore(deps.pool, clock, limits.absoluteMs);
  await app.register(fastifySession, {
    secret,
    cookieName: 'sid',
    store,
    saveUninitialized: false,
    rolling: false,
    // No maxAge: a browser-session cookie; the server enforces idle and absolute limits.
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' },
  });
  const csrf: Csrf = csrfProtection();
  // Counted in PostgreSQL, so a limit holds across every instance behind the proxy.
  await app.register(fastifyRateLimit, { global: false, store: pgRateLimitStore(deps.pool) });

  const eta = new Eta({ views: VIEWS_DIR, cache: true, autoEscape: true });
  const render: SiteContext['render'] = (req, reply, view, data = {}, status = 200) => {
    const realm = realmOf(req.url.split('?')[0]!);
    const frame = realm?.frame ?? { brand: 'ひかり電話設定サイト', home: '/' };
    // Fields record themselves as the body is drawn; the layout, drawn after it, links its error
    // summary to them, so a message stands next to its field and nowhere else.
    const shown: { name: string; label: string }[] = [];
    const field = (f: Record<string, unknown> & { name: string; label: string }) => {
      shown.push({ name: f.name, label: f.label });
      const errors = (data.errors ?? {}) as Record<string, string>;
      return eta.render('./field', { ...f, error: f.error ?? errors[f.name] });
    };
    const mark = (name: string, label: string) => void shown.push({ name, label });
    const html = eta.render(view, {
      ...data,
      csrf: csrf.token(req, reply),
      stylesheet: STYLESHEET_PATH,
      frame,
      // A page drawn without the realm's login hook (an error page) still says who is logged in.
      who: req.who ?? whoOf(req, realm?.name),
      field,
      mark,
      shown,
    });
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  };
  const errorPage: SiteContext['errorPage'] = (req, reply, status, text) => {
    const { title, message } = { ...errorText(status), ...text };
    try {
      return render(req, reply, 'error', { title, message }, status);
    } catch (err) {
      // The page itself failed (a template): still the site's words, never the framework's.
      req.log.error({ err: (err as Error).message }, 'error page failed');
      return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(FALLBACK_PAGE);
    }
  };

  const uploadMb = site.uploadLimitBytes / (1024 * 1024);
  const uploadLimitText = Number.isInteger(uploadMb) ? `${uploadMb}MB` : `${Math.floor(site.uploadLimitBytes / 1024)}KB`;
  pageError = (err, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (isCsrfError(err)) return errorPage(req, reply, 403, ERROR_TEXT.csrf);
    if (status === 503) {
      req.log.warn({ err: err.message, url: req.url.split('?')[0] }, 'request refused: a part it needs is unavailable');
      return errorPage(req, reply, 503);
    }
    // Only a file can be this large from the site's own forms: say how large it may be.
    if (status === 413) return errorPage(req, reply, 413, { message: ERROR_TEXT.tooLarge(uploadLimitText) });
    if (status < 500) return errorPage(req, reply, status);
    req.log.error({ err: err.message, url: req.url.split('?')[0] }, 'site handler failed');
    return errorPage(req, reply, 500);
  };
  app.setErrorHandler(pageError);
  app.setNotFoundHandler((req, reply) => errorPage(req, reply, 404));

  // Every POST of every realm carries the CSRF token of its session.
  app.addHook('preHandler', async (req) => {
    if (req.method === 'POST') csrf.check(req);
  });

  const ctx: SiteContext = {
    deps,
    limits,
    render,
    errorPage,
    audit: (req, e, db) =>
      writeAudit(db ?? deps.pool, { actor: e.actor ?? actorOf(req), action: e.action, subject: e.subject, detail: e.detail, source: req.ip, at: clock.now() }),
    sessionOf: (req, realm) => sessionOf(req, realm, clock, limits),
    publicUrl: () => site.publicUrl ?? listenerUrl(app),
    openSession: (req, reply, owner) => openSession(req, reply, csrf, { ...owner, at: owner.at ?? clock.now().getTime(), lastSeen: clock.now().getTime() }),
  };
  app.decorateRequest('who', null);
  // Requests still being handled (until their reply is produced, even if the client has gone):
  // a stop waits for them before the database closes.
  let inFlight = 0;
  const counted = new WeakSet<FastifyRequest>();
  app.addHook('onRequest', (req, _reply, done) => {
    inFlight++;
    counted.add(req);
    done();
  });
  app.addHook('onSend', (req, _reply, payload, done) => {
    if (counted.delete(req)) inFlight--;
    done(null, payload);
  });
  app.decorate('siteInFlight', () => inFlight);

  const css = await readFile(path.join(VIEWS_DIR, 'site.css'), 'utf8');
  app.get(STYLESHEET_PATH, (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css));

  for (const realm of realms) {
    await app.register(async (scoped) => realm.register(scoped, ctx), { prefix: realm.prefix });
  }
  const sweep = setInterval(() => {
    store.sweep().catch((err) => deps.logger.warn({ err: (err as Error).message }, 'session sweep failed'));
    pruneRateLimits(deps.pool).catch((err) => deps.logger.warn({ err: (err as Error).message }, 'rate-limit sweep failed'));
    pruneLoginThrottle(deps.pool, clock.now(), site.loginThrottle.forgetAfterDays).catch((err) => deps.logger.warn({ err: (err as Error).message }, 'login-throttle sweep failed'));
  }, 10 * 60_000);
  sweep.unref();
  app.addHook('onClose', async () => clearInterval(sweep));
  return app;
}

export interface SiteServer {
  port: number;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startSite(deps: SiteDeps, realms: Realm[]): Promise<SiteServer> {
  const app = await buildSite(deps, realms);
  await app.listen({ host: deps.config.site.listen.host, port: deps.config.site.listen.port });
  const address = app.server.address();
  let closing: Promise<void> | undefined;
  // In-flight requests get a moment to finish; browsers' idle keep-alive sockets do not hold the stop.
  const close = async () => {
    const force = setTimeout(() => app.server.closeAllConnections(), 2_000);
    app.server.closeIdleConnections();
    await app.close();
    clearTimeout(force);
    const deadline = Date.now() + 10_000;
    while ((app as unknown as { siteInFlight(): number }).siteInFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
  return { port: typeof address === 'object' && address ? address.port : 0, app, close: () => (closing ??= close()) };
}

// The settings-site foundation: one Fastify server with the parts every set of pages shares —
// security headers (CSP), form bodies, signed cookies, sessions in PostgreSQL, CSRF on every
// POST, rate limits counted in PostgreSQL, templates with auto-escaping, login checks and audit,
// and the listener's connection caps, deadlines and body limit (src/web/connection-limits.ts).
// A set of pages (pattern A's site, the legacy site, 回線情報通知機能) is a PageSet mounted
// under its own prefix; it gets a SiteContext and adds routes.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySession from '@fastify/session';
import proxyAddr from '@fastify/proxy-addr';
import { Eta } from 'eta';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type preHandlerAsyncHookHandler } from 'fastify';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logger.ts';
import { writeAudit, type AuditEntry } from '../store/audit.ts';
import { pruneRateLimits } from '../store/rate-limit.ts';
import { deadlineOptions, limitConnections } from '../web/connection-limits.ts';
import { pgRateLimitStore, RateLimitUnavailable } from './rate-limit-store.ts';
import { pgSessionStore } from './session-store.ts';
import { checkLogin, redirectToLogin, type SessionLimits, type SiteLogin } from './session.ts';

export const VIEWS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'views');
const STYLESHEET_PATH = '/static/site.css';

export interface SiteDeps {
  pool: pg.Pool;
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Where the listener's connection metrics go (the service's registry). */
  registry?: Registry;
}

export interface SiteContext {
  deps: SiteDeps;
  limits: SessionLimits;
  /** Renders views/<view>.eta inside the layout; `data` is auto-escaped. */
  render(req: FastifyRequest, reply: FastifyReply, view: string, data?: Record<string, unknown>, status?: number): FastifyReply;
  /** preHandler for every page behind login: session limits, forced password change, 認証単位 scope. */
  requireLogin: preHandlerAsyncHookHandler;
  /** requireLogin without the forced-password-change redirect (the change page itself, logout). */
  requireSession: preHandlerAsyncHookHandler;
  /** A session only: for the pages of a login step itself (the gate's own pages). */
  requireStep: preHandlerAsyncHookHandler;
  audit(req: FastifyRequest, e: Omit<AuditEntry, 'at' | 'source' | 'actor'> & { actor?: string }, db?: pg.PoolClient): Promise<void>;
  /** Steps a login must finish before any page (e.g. ワンタイムパスワード): where to go, or undefined. */
  gate(req: FastifyRequest, login: SiteLogin): Promise<string | undefined>;
}

export interface PageSet {
  /** Path prefix ('' for pattern A's site at /). */
  prefix: string;
  register(app: FastifyInstance, ctx: SiteContext): Promise<void> | void;
  /** A step after the password that every page behind requireLogin waits for (see SiteContext.gate). */
  gate?(req: FastifyRequest, login: SiteLogin, ctx: SiteContext): Promise<string | undefined>;
}

export async function buildSite(deps: SiteDeps, pageSets: PageSet[]): Promise<FastifyInstance> {
  const { config, clock } = deps;
  const site = config.site;
  const limits: SessionLimits = { idleMs: site.idleTimeoutMin * 60_000, absoluteMs: site.absoluteTimeoutHours * 3_600_000 };
  // The configured reverse proxies: the only peers whose X-Forwarded-For/-Proto are believed, and
  // not held to the per-address connection cap (one proxy address carries every client).
  const trustedProxy = site.trustedProxies.length ? proxyAddr.compile(site.trustedProxies) : undefined;
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
  await app.register(fastifyCsrf, {
    cookieKey: 'csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto', signed: true },
  });
  // Counted in PostgreSQL, so a limit holds across every instance behind the proxy.
  await app.register(fastifyRateLimit, { global: false, store: pgRateLimitStore(deps.pool) });

  // Every POST on every page set carries the CSRF token.
  app.addHook('preHandler', (req, reply, done) => {
    if (req.method === 'POST') app.csrfProtection(req, reply, done);
    else done();
  });

  const uploadMb = site.uploadLimitBytes / (1024 * 1024);
  const uploadLimitText = Number.isInteger(uploadMb) ? `${uploadMb}MB` : `${Math.floor(site.uploadLimitBytes / 1024)}KB`;
  const eta = new Eta({ views: VIEWS_DIR, cache: true, autoEscape: true });
  const render: SiteContext['render'] = (req, reply, view, data = {}, status = 200) => {
    const csrf = reply.generateCsrf();
    const html = eta.render(view, { ...data, csrf, stylesheet: STYLESHEET_PATH, login: req.login ?? null });
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  };

  const loginHook = (mode: 'full' | 'session' | 'step'): preHandlerAsyncHookHandler =>
    async function (req, reply) {
      const check = await checkLogin(req, deps.pool, clock, limits);
      if (!check.ok) return redirectToLogin(reply, check.why);
      req.login = check.login;
      if (mode === 'step') return;
      if (check.login.state.mustChange) {
        if (mode === 'full') return reply.redirect('/password', 303);
        return;
      }
      // Without a pending password change, the steps after the password come first (also for /password).
      const next = await ctx.gate(req, check.login);
      if (next) return reply.redirect(next, 303);
    };

  const ctx: SiteContext = {
    deps,
    limits,
    render,
    requireLogin: loginHook('full'),
    requireSession: loginHook('session'),
    requireStep: loginHook('step'),
    audit: (req, e, db) =>
      writeAudit(db ?? deps.pool, { actor: e.actor ?? req.login?.account.number ?? 'anonymous', action: e.action, subject: e.subject, detail: e.detail, source: req.ip, at: clock.now() }),
    async gate(req, login) {
      for (const set of pageSets) {
        const next = await set.gate?.(req, login, ctx);
        if (next) return next;
      }
      return undefined;
    },
  };
  app.decorateRequest('login', null as never);
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

  const css = await import('node:fs/promises').then((fs) => fs.readFile(path.join(VIEWS_DIR, 'site.css'), 'utf8'));
  app.get(STYLESHEET_PATH, (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css));

  app.setNotFoundHandler((req, reply) => render(req, reply, 'error', { title: 'ページが見つかりません', message: 'お探しのページは見つかりませんでした。' }, 404));
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err.code?.startsWith('FST_CSRF')) {
      return render(req, reply, 'error', { title: '操作を受け付けられませんでした', message: '画面の有効期限が切れたか、正しくない画面からの操作です。画面を読み込み直してから、もう一度操作してください。' }, 403);
    }
    if (err instanceof RateLimitUnavailable) {
      req.log.warn({ err: err.message, url: req.url.split('?')[0] }, 'request refused: rate-limit counter unavailable');
      return render(req, reply, 'error', { title: 'エラー', message: 'ただいま処理できません。しばらくしてから、もう一度お試しください。' }, 503);
    }
    if (err.statusCode === 429) {
      return render(req, reply, 'error', { title: 'しばらくお待ちください', message: 'ログインの試行が多すぎます。しばらくしてから、もう一度お試しください。' }, 429);
    }
    if (err.statusCode === 413) {
      // Only a file can be this large from the site's own forms: say how large it may be.
      return render(req, reply, 'error', { title: '操作を受け付けられませんでした', message: `送信された内容が大きすぎます。CSVファイルは${uploadLimitText}以内にしてください。` }, 413);
    }
    if (err.statusCode && err.statusCode < 500) {
      return render(req, reply, 'error', { title: '操作を受け付けられませんでした', message: '入力の形式が正しくありません。' }, err.statusCode);
    }
    req.log.error({ err: err.message, url: req.url.split('?')[0] }, 'site handler failed');
    return render(req, reply, 'error', { title: 'エラー', message: 'ただいま処理できません。しばらくしてから、もう一度お試しください。' }, 500);
  });

  for (const set of pageSets) {
    await app.register(async (scoped) => set.register(scoped, ctx), { prefix: set.prefix });
  }
  const sweep = setInterval(() => {
    store.sweep().catch((err) => deps.logger.warn({ err: (err as Error).message }, 'session sweep failed'));
    pruneRateLimits(deps.pool).catch((err) => deps.logger.warn({ err: (err as Error).message }, 'rate-limit sweep failed'));
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

export async function startSite(deps: SiteDeps, pageSets: PageSet[]): Promise<SiteServer> {
  const app = await buildSite(deps, pageSets);
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

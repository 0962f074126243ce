// The pages every legacy service gets (000 p.143–150), under `${prefix}${service.path}`: ログイン
// (→ パスワード設定 after a temp-password login, before anything else) → メインメニュー (the service's
// setting pages, パスワード変更, 終了), and the login hook its setting pages run behind.
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { legacyPasswordRefusal } from '../../domain/legacy-password.ts';
import { isNationalNumber } from '../../domain/phone-number.ts';
import { loadLegacyAccount, loadLegacyCredentials, resetLegacyPasswordFailures, setLegacyPassword } from '../../store/legacy-accounts.ts';
import { hashPassword } from '../../store/password-hash.ts';
import { endSessionsOf } from '../../store/sessions.ts';
import { withTransaction } from '../../store/transaction.ts';
import { attemptLogin } from '../login-attempt.ts';
import { throttledMessage } from '../messages.ts';
import { mailLoginWarning } from '../notices.ts';
import { loginRateLimit } from '../rate-limit-store.ts';
import { body, text, type Body, type Errors } from '../settings-form.ts';
import { credentialsSince, legacySecrets } from './credentials.ts';
import { LEGACY_MSG, LEGACY_PASSWORD_MESSAGES } from './messages.ts';
import type { LegacyServiceContext } from './service-pages.ts';
import { checkLegacyLogin, LEGACY_REALM } from './session.ts';

const raw = (b: Body, k: string) => (typeof b[k] === 'string' ? b[k]! : '');

export async function registerLegacyService(app: FastifyInstance, ctx: LegacyServiceContext): Promise<void> {
  const { deps, service, base, page } = ctx;
  const loginPath = base;
  const setupPath = `${base}/first-password`;
  const menuPath = `${base}/menu`;

  /** The service's pages behind login; `setup` is the forced password page itself. */
  const hook = (setup = false): preHandlerAsyncHookHandler =>
    async function (req, reply) {
      const check = await checkLegacyLogin(req, ctx, service.service);
      if (!check.ok) return reply.redirect(check.why === 'none' ? loginPath : `${loginPath}?${check.why}=1`, 303);
      req.legacyLogin = { owner: check.owner, state: check.state, account: check.account };
      if (!setup && check.state.mustSetPassword) return reply.redirect(setupPath, 303);
    };
  const behindLogin = { preHandler: hook() };

  const loginPage = (req: FastifyRequest, reply: FastifyReply, extra: { notice?: string; errors?: Errors; number?: string; migrated?: boolean } = {}, status = 200) =>
    page(req, reply, 'login', { title: `ログイン（${service.name}）`, notice: extra.notice, errors: extra.errors ?? {}, typed: extra.number ?? '', migrated: extra.migrated }, status);

  app.get('/', async (req, reply) => {
    const check = await checkLegacyLogin(req, ctx, service.service);
    if (check.ok) return reply.redirect(check.state.mustSetPassword ? setupPath : menuPath, 303);
    const q = req.query as Record<string, string>;
    const timedOut = check.why === 'timeout' || q.timeout;
    const migrated = check.why === 'migrated' || Boolean(q.migrated);
    const notice = timedOut ? LEGACY_MSG.timeout(deps.config.site.idleTimeoutMin) : migrated ? LEGACY_MSG.migrated : q.gone ? LEGACY_MSG.gone : undefined;
    return loginPage(req, reply, { notice, migrated });
  });

  app.post('/login', loginRateLimit(deps.config.site.loginRateLimit), async (req, reply) => {
    const b = body(req);
    const number = text(b, 'number');
    const valid = isNationalNumber(number);
    const account = valid ? await loadLegacyAccount(deps.pool, number) : undefined;
    const subscribes = account?.services.includes(service.service) ? account : undefined;
    const [cred] = subscribes ? await loadLegacyCredentials(deps.pool, [subscribes]) : [];
    const audit = (action: string, detail: Record<string, unknown> = {}) =>
      ctx.audit(req, { actor: valid ? number : 'anonymous', action, subject: valid ? number : null, detail: { realm: service.service, ...detail } });
    const outcome = await attemptLogin(deps, req.ip, {
      subject: valid ? number : null,
      credentialSince: credentialsSince(cred ? [cred] : []),
      secrets: subscribes && cred ? legacySecrets(deps, subscribes, cred, req.ip) : [],
      entered: raw(b, 'password'),
      checks: 2,
      warn: subscribes && service.service === 'chakushin_mail'
        ? async (failures) => {
            const noticeTo = await mailLoginWarning(deps.pool, deps.config, subscribes, failures, deps.clock.now());
            await audit('legacy.login.warning', { failures, noticeTo });
          }
        : undefined,
    });
    if (!outcome.ok) {
      await audit(outcome.why === 'throttled' ? 'legacy.login.throttled' : 'legacy.login.failed');
      if (outcome.why === 'throttled') return loginPage(req, reply, { errors: { form: throttledMessage(outcome.retryAfterSec) }, number }, 429);
      return loginPage(req, reply, { errors: { form: LEGACY_MSG.loginFailed }, number }, 401);
    }
    const proof = outcome.secret.kind;
    if (subscribes!.pattern !== 'B') {
      // The right password of a contract moved by 設備変更工事: say where to go now.
      await audit('legacy.login.migrated');
      return loginPage(req, reply, { errors: { form: LEGACY_MSG.migrated }, number, migrated: true }, 403);
    }
    if (proof === 'password' && !(await resetLegacyPasswordFailures(deps.pool, number, service.service))) {
      return loginPage(req, reply, { errors: { form: LEGACY_MSG.loginFailed }, number }, 401);
    }
    await ctx.openSession(req, reply, { realm: LEGACY_REALM, number });
    req.session.set('legacy', { service: service.service, mustSetPassword: proof === 'temp' });
    await audit('legacy.login', { with: proof === 'temp' ? 'temp_password' : 'password' });
    return reply.redirect(proof === 'temp' ? setupPath : menuPath, 303);
  });

  /** パスワード設定 (after a temp-password login) and パスワード変更 share the rule and the save. */
  const passwordForm = (path: string, name: string, title: string, setup: boolean) => {
    const opts = { preHandler: hook(setup) };
    const draw = (req: FastifyRequest, reply: FastifyReply, errors: Errors = {}, status = 200) =>
      page(req, reply, name, { title, number: req.legacyLogin.account.number, notice: setup ? LEGACY_MSG.mustSetPassword : undefined, errors }, status);
    app.get(path, opts, async (req, reply) => {
      if (setup && !req.legacyLogin.state.mustSetPassword) return reply.redirect(menuPath, 303);
      return draw(req, reply);
    });
    app.post(path, opts, async (req, reply) => {
      const { owner, state, account } = req.legacyLogin;
      if (setup && !state.mustSetPassword) return reply.redirect(menuPath, 303);
      const b = body(req);
      const current = raw(b, 'current');
      const next = raw(b, 'next');
      const [cred] = await loadLegacyCredentials(deps.pool, [account]);
      // 電話で設定したパスワード is the temp password; 現在のパスワード the password.
      const outcome = await attemptLogin(deps, req.ip, {
        subject: account.number,
        credentialSince: credentialsSince(cred ? [cred] : []),
        secrets: cred ? legacySecrets(deps, account, cred, req.ip).filter((s) => s.kind === (setup ? 'temp' : 'password')) : [],
        entered: current,
        checks: 1,
      });
      if (!outcome.ok) {
        // 10 wrong in a row just made the password invalid: this session ends with it.
        const [after] = await loadLegacyCredentials(deps.pool, [account]);
        const still = await checkLegacyLogin(req, ctx, service.service);
        if (!still.ok || after?.password?.lockedAt) {
          await req.session.destroy();
          return reply.redirect(loginPath, 303);
        }
        if (outcome.why === 'throttled') return draw(req, reply, { form: throttledMessage(outcome.retryAfterSec) }, 429);
        return draw(req, reply, { current: setup ? LEGACY_MSG.tempWrong : LEGACY_MSG.currentWrong }, 400);
      }
      const refusal = legacyPasswordRefusal(next, next === current);
      if (refusal) return draw(req, reply, { next: LEGACY_PASSWORD_MESSAGES[refusal] }, 400);
      if (next !== raw(b, 'confirm')) return draw(req, reply, { confirm: LEGACY_MSG.confirmMismatch }, 400);
      const hash = await hashPassword(next);
      await withTransaction(deps.pool, async (client) => {
        await setLegacyPassword(client, account.number, service.service, hash, deps.clock.now());
        // Other sessions of the number end: whoever knew the old password is out.
        await endSessionsOf(client, account.number);
        await ctx.audit(req, { action: 'legacy.password.change', subject: account.number, detail: { realm: service.service, setup } }, client);
      });
      await ctx.openSession(req, reply, { realm: LEGACY_REALM, number: account.number, at: owner.at });
      req.session.set('legacy', { service: service.service });
      return reply.redirect(`${menuPath}?${setup ? 'set' : 'changed'}=1`, 303);
    });
  };
  passwordForm('/first-password', 'first-password', 'パスワード設定', true);
  passwordForm('/password', 'password', 'パスワード変更', false);

  app.get('/menu', behindLogin, async (req, reply) => {
    const q = req.query as Record<string, string>;
    const number = req.legacyLogin.account.number;
    const notice = q.set ? LEGACY_MSG.passwordSet : q.changed ? LEGACY_MSG.passwordChanged : undefined;
    const entries = [...service.menu, { label: 'パスワード変更', path: '/password', description: '接続する時のパスワードを変更します。' }].map((m) => ({ ...m, href: `${base}${m.path}` }));
    const status = service.status ? await service.status(ctx, number) : undefined;
    return page(req, reply, 'menu', { title: 'メインメニュー', number, status, entries, notice });
  });

  // 終了 (設定の終了): the session ends; the guide then asks to close the browser.
  app.post('/end', async (req, reply) => {
    const owner = req.session.get('owner');
    if (owner?.realm === LEGACY_REALM) await ctx.audit(req, { action: 'legacy.logout', subject: owner.number ?? null });
    await req.session.destroy();
    req.who = null;
    return page(req, reply, 'ended', { title: '設定の終了', notice: LEGACY_MSG.ended });
  });

  await app.register(async (settings) => {
    settings.addHook('preHandler', hook());
    await service.register(settings, ctx);
  });
}

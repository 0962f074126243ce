// The legacy site (サービス設定ホームページ, pattern B, 000 p.143–150) under its own prefix
// (site.legacyPrefix, default /legacy): 着信お知らせメール → ログイン → (仮パスワードなら) パスワード設定
// → メインメニュー: 開始／停止設定, 送信先メールアドレス登録／確認, メール送信条件設定,
// 発信電話番号指定通知設定, パスワード変更, 終了. Small pages without JavaScript, for feature phones.
// The settings are the same per-number rows the new site and the notify path use.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { legacyPasswordRefusal } from '../../domain/legacy-password.ts';
import { mailAddressRefusal } from '../../domain/mail-address.ts';
import { isNationalNumber } from '../../domain/phone-number.ts';
import { loadLegacyAccount, loadLegacyCredentials, resetLegacyPasswordFailures, setLegacyPassword } from '../../store/legacy-accounts.ts';
import {
  readNotifySettings,
  writeConditions,
  writeStarted,
  type NotifySettings,
} from '../../store/notify-settings.ts';
import { hashPassword } from '../../store/password-hash.ts';
import { withTransaction } from '../../store/transaction.ts';
import type { PageSet, SiteContext } from '../foundation.ts';
import { MSG } from '../messages.ts';
import { endSessionsOf } from '../session-store.ts';
import { body, FormError, postedConditions, postedDesignated, postedDestinations, postSettingsForm, saveDesignatedRows, saveDestinationRows, savedDesignated, savedDestinations, sendTestMail, TEST_MAIL_ACTION, text, type Body, type Errors } from '../settings-form.ts';
import { countWrongEntry, proveCredential } from './credentials.ts';
import { LEGACY_ADDRESS_MESSAGES, LEGACY_MSG, LEGACY_PASSWORD_MESSAGES } from './messages.ts';
import { checkLegacyLogin, LEGACY_SERVICE, requireLegacyLogin } from './session.ts';
import { loginRateLimit } from '../rate-limit-store.ts';

const raw = (b: Body, k: string) => (typeof b[k] === 'string' ? b[k]! : '');

export function legacyPages(prefix: string): PageSet {
  return { prefix, register: (app, ctx) => register(app, ctx, prefix) };
}

function register(app: FastifyInstance, ctx: SiteContext, prefix: string) {
  const { deps } = ctx;
  const base = `${prefix}/chakushin-mail`;
  const loginPath = base;
  const setupPath = `${base}/first-password`;
  const behindLogin = { preHandler: requireLegacyLogin(ctx, loginPath, setupPath) };
  const view = (name: string) => `legacy/${name}`;
  const page = (req: FastifyRequest, reply: FastifyReply, name: string, data: Record<string, unknown>, status = 200) =>
    ctx.render(req, reply, view(name), { base, prefix, errors: {}, ...data }, status);

  // トップ: the legacy site has one password per service; 着信お知らせメール is the one built here.
  app.get('/', async (req, reply) => page(req, reply, 'top', { title: 'サービス設定ホームページ' }));

  const loginPage = (req: FastifyRequest, reply: FastifyReply, extra: { notice?: string; errors?: Errors; number?: string; migrated?: boolean } = {}, status = 200) =>
    page(req, reply, 'login', { title: 'ログイン（着信お知らせメール）', notice: extra.notice, errors: extra.errors ?? {}, number: extra.number ?? '', migrated: extra.migrated }, status);

  app.get('/chakushin-mail', async (req, reply) => {
    const check = await checkLegacyLogin(req, ctx);
    if (check.ok) return reply.redirect(check.state.mustSetPassword ? setupPath : `${base}/menu`, 303);
    const q = req.query as Record<string, string>;
    const timedOut = check.why === 'timeout' || q.timeout;
    const migrated = check.why === 'migrated' || Boolean(q.migrated);
    const notice = timedOut ? LEGACY_MSG.timeout(deps.config.site.idleTimeoutMin) : migrated ? LEGACY_MSG.migrated : q.gone ? LEGACY_MSG.gone : undefined;
    return loginPage(req, reply, { notice, migrated });
  });

  app.post(
    '/chakushin-mail/login',
    loginRateLimit(deps.config.site.loginRateLimit),
    async (req, reply) => {
      const b = body(req);
      const number = text(b, 'number');
      const entered = raw(b, 'password');
      const valid = isNationalNumber(number);
      const account = valid ? await loadLegacyAccount(deps.pool, number) : undefined;
      const subscribes = account?.services.includes(LEGACY_SERVICE) ? account : undefined;
      const [cred] = subscribes ? await loadLegacyCredentials(deps.pool, [subscribes]) : [];
      const proof = await proveCredential(deps, cred, entered);
      const audit = (action: string, detail: Record<string, unknown> = {}) =>
        ctx.audit(req, { actor: valid ? number : 'anonymous', action, subject: valid ? number : null, detail });
      if (subscribes && cred && proof && subscribes.pattern !== 'B') {
        // The right password of a contract moved by 設備変更工事: say where to go now.
        await audit('legacy.login.migrated');
        return loginPage(req, reply, { errors: { password: LEGACY_MSG.migrated }, number, migrated: true }, 403);
      }
      if (subscribes && cred && proof === 'password' && !(await resetLegacyPasswordFailures(deps.pool, number, LEGACY_SERVICE))) {
        return loginPage(req, reply, { errors: { password: LEGACY_MSG.loginFailed }, number }, 401);
      }
      if (!subscribes || !cred || !proof) {
        if (subscribes && cred) await countWrongEntry(deps, subscribes, cred, req.ip);
        await audit('legacy.login.failed');
        return loginPage(req, reply, { errors: { password: LEGACY_MSG.loginFailed }, number }, 401);
      }
      await req.session.regenerate();
      const now = deps.clock.now().getTime();
      req.session.set('legacy', { number, at: now, lastSeen: now, mustSetPassword: proof === 'temp' });
      await audit('legacy.login', { with: proof === 'temp' ? 'temp_password' : 'password' });
      return reply.redirect(proof === 'temp' ? setupPath : `${base}/menu`, 303);
    },
  );

  /** パスワード設定 (after a temp-password login) and パスワード変更 share the rule and the save. */
  const passwordForm = (path: string, name: string, title: string, setup: boolean) => {
    const opts = { preHandler: requireLegacyLogin(ctx, loginPath, setupPath, setup) };
    const draw = (req: FastifyRequest, reply: FastifyReply, errors: Errors = {}, status = 200) =>
      page(req, reply, name, { title, number: req.legacyLogin.account.number, notice: setup ? LEGACY_MSG.mustSetPassword : undefined, errors }, status);
    app.get(path, opts, async (req, reply) => {
      if (setup && !req.legacyLogin.state.mustSetPassword) return reply.redirect(`${base}/menu`, 303);
      return draw(req, reply);
    });
    app.post(path, opts, async (req, reply) => {
      const { state, account } = req.legacyLogin;
      if (setup && !state.mustSetPassword) return reply.redirect(`${base}/menu`, 303);
      const b = body(req);
      const current = raw(b, 'current');
      const next = raw(b, 'next');
      const [cred] = await loadLegacyCredentials(deps.pool, [account]);
      const proof = await proveCredential(deps, cred, current);
      // 電話で設定したパスワード is the temp password; 現在のパスワード the password.
      if (!cred || proof !== (setup ? 'temp' : 'password')) {
        const { lockedNow } = cred ? await countWrongEntry(deps, account, cred, req.ip) : { lockedNow: false };
        const still = await checkLegacyLogin(req, ctx);
        if (lockedNow || !still.ok) {
          await req.session.destroy();
          return reply.redirect(loginPath, 303);
        }
        return draw(req, reply, { current: setup ? LEGACY_MSG.tempWrong : LEGACY_MSG.currentWrong }, 400);
      }
      const refusal = legacyPasswordRefusal(next, next === current);
      if (refusal) return draw(req, reply, { next: LEGACY_PASSWORD_MESSAGES[refusal] }, 400);
      if (next !== raw(b, 'confirm')) return draw(req, reply, { confirm: LEGACY_MSG.confirmMismatch }, 400);
      const hash = await hashPassword(next);
      await withTransaction(deps.pool, async (client) => {
        await setLegacyPassword(client, account.number, LEGACY_SERVICE, hash, deps.clock.now());
        // Other sessions of the number end: whoever knew the old password is out.
        await endSessionsOf(client, account.number);
        await ctx.audit(req, { actor: account.number, action: 'legacy.password.change', subject: account.number, detail: { setup } }, client);
      });
      await req.session.regenerate();
      const now = deps.clock.now().getTime();
      req.session.set('legacy', { number: account.number, at: state.at, lastSeen: now });
      return reply.redirect(`${base}/menu?${setup ? 'set' : 'changed'}=1`, 303);
    });
  };
  passwordForm('/chakushin-mail/first-password', 'first-password', 'パスワード設定', true);
  passwordForm('/chakushin-mail/password', 'password', 'パスワード変更', false);

  const menuData = async (number: string) => ({ title: 'メインメニュー', number, started: (await readNotifySettings(deps.pool, number)).started });
  app.get('/chakushin-mail/menu', behindLogin, async (req, reply) => {
    const q = req.query as Record<string, string>;
    const notice = q.set ? LEGACY_MSG.passwordSet : q.changed ? LEGACY_MSG.passwordChanged : undefined;
    return page(req, reply, 'menu', { ...(await menuData(req.legacyLogin.account.number)), notice });
  });

  // 終了 (設定の終了): the session ends; the guide then asks to close the browser.
  app.post('/chakushin-mail/end', async (req, reply) => {
    const state = req.session.get('legacy');
    if (state) await ctx.audit(req, { actor: state.number, action: 'legacy.logout', subject: state.number });
    await req.session.destroy();
    return page(req, reply, 'ended', { title: '設定の終了', notice: LEGACY_MSG.ended });
  });

  /** One settings form of the login's own number: parse, validate, save in one transaction with the stale check. */
  const form = (
    name: string,
    title: string,
    draw: (s: NotifySettings) => Record<string, unknown>,
    save: (client: pg.PoolClient, number: string, b: Body, current: NotifySettings) => Promise<void>,
    redraw: (b: Body) => Record<string, unknown>,
    other?: (req: FastifyRequest, number: string, b: Body) => Promise<string | undefined>,
  ) => {
    app.get(`/chakushin-mail/${name}`, behindLogin, async (req, reply) => {
      const number = req.legacyLogin.account.number;
      const s = await readNotifySettings(deps.pool, number);
      return page(req, reply, name, { title, number, version: s.version, ...draw(s) });
    });
    app.post(`/chakushin-mail/${name}`, behindLogin, async (req, reply) => {
      const number = req.legacyLogin.account.number;
      const b = body(req);
      return postSettingsForm({
        pool: deps.pool, number, body: b, draw, redraw,
        other: other && (() => other(req, number, b)),
        save: (client, current) => save(client, number, b, current),
        audit: (client) => ctx.audit(req, { actor: number, action: `legacy.chakushin_mail.${name}`, subject: number }, client),
        messages: { saved: LEGACY_MSG.saved, stale: MSG.stale },
        show: (data, status) => page(req, reply, name, { title, number, ...data }, status),
      });
    });
  };

  // 開始／停止設定: 開始 needs a registered destination (000 p.145).
  form(
    'start',
    '開始／停止設定',
    (s) => ({ started: s.started }),
    async (client, number, b, current) => {
      const started = b.started === 'on';
      if (started && current.destinations.length === 0) throw new FormError({ started: LEGACY_MSG.startWithoutAddress });
      await writeStarted(client, number, started, deps.clock.now());
    },
    (b) => ({ started: b.started === 'on' }),
  );

  // 送信先メールアドレス登録／確認: 5 rows of address, 送信する, テストメール送信; the legacy address rule.
  const addressError = (address: string) => {
    const refusal = mailAddressRefusal(address, 'legacy');
    return refusal && LEGACY_ADDRESS_MESSAGES[refusal];
  };
  form(
    'destinations',
    '送信先メールアドレス登録／確認',
    (s) => ({ rows: savedDestinations(s) }),
    (client, number, b, current) =>
      saveDestinationRows(client, number, b, current, deps.clock.now(), {
        rows: '送信先メールアドレス', flagWithoutValue: LEGACY_MSG.sendWithoutAddress, addressError,
      }),
    (b) => ({ rows: postedDestinations(b) }),
    (req, number, b) => (b.test === undefined ? Promise.resolve(undefined) : sendTest(req, number, b)),
  );

  /** テストメール送信n: the address typed in row n (saved or not), through the outbox; the same hourly cap as the new site. */
  async function sendTest(req: FastifyRequest, number: string, b: Body): Promise<string> {
    const { n, address } = await sendTestMail({
      pool: deps.pool, config: deps.config, now: deps.clock.now(), number, body: b, addressError,
      audit: (client, detail) => ctx.audit(req, { actor: number, action: TEST_MAIL_ACTION, subject: number, detail: { ...detail, site: 'legacy' } }, client),
    });
    return LEGACY_MSG.testMailSent(n, address);
  }

  // メール送信条件設定: off by default.
  form(
    'conditions',
    'メール送信条件設定',
    (s) => ({ designatedOnly: s.designatedOnly, unansweredOnly: s.unansweredOnly }),
    async (client, number, b) => {
      await writeConditions(client, number, postedConditions(b), deps.clock.now());
    },
    postedConditions,
  );

  // 発信電話番号指定通知設定: 30 rows of 発信電話番号 and 指定する.
  form(
    'designated',
    '発信電話番号指定通知設定',
    (s) => ({ rows: savedDesignated(s) }),
    (client, number, b) =>
      saveDesignatedRows(client, number, b, deps.clock.now(), { rows: '発信電話番号', flagWithoutValue: LEGACY_MSG.designatedWithoutNumber }),
    (b) => ({ rows: postedDesignated(b) }),
  );
}

// ワンタイムパスワード pages (001 p.5–8, p.12–13): the choice at the first login, the provisional
// registration and its 本登録 URL, the code mailed at each login, recovery of the address with
// 確認用ID/確認用パスワード, and the change pages from the トップ. The step sits after the password
// (and after a forced パスワード変更) as a gate every other page waits for.
import { randomBytes, randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mailAddressRefusal } from '../../../domain/mail-address.ts';
import { checkIdRefusal, checkPasswordRefusal, OTP_CODE_DIGITS } from '../../../domain/otp.ts';
import { enqueueMails } from '../../../mail/outbox.ts';
import { countAudit } from '../../../store/audit.ts';
import {
  checkCode,
  codeFailures,
  confirmRegistration,
  createToken,
  declineOtp,
  loadOtpSetting,
  setCheckCredential,
  sha256,
} from '../../../store/otp.ts';
import { withTransaction } from '../../../store/transaction.ts';
import { hashPassword, verifyPassword } from '../../../store/password-hash.ts';
import type { SiteContext } from '../../foundation.ts';
import { ADDRESS_MESSAGES } from '../../messages.ts';
import type { SettingsContext } from '../context.ts';
import { SETTINGS_REALM, setState, type SiteLogin } from '../session.ts';
import { PASSWORD_PATH, type LoginStep } from '../steps.ts';
import { codeMail } from './mail.ts';
import { CHECK_ID_MESSAGES, CHECK_PASSWORD_MESSAGES, OTP_MSG } from './messages.ts';
import { startRegistration } from './registration.ts';

declare module '../session.ts' {
  interface SettingsState {
    /** The ワンタイムパスワード step is done for this session (code entered, declined, or not offered). */
    otpPassed?: boolean;
    /** The login's region offers ワンタイムパスワード: the トップ shows its change pages. */
    otpOffered?: boolean;
    /** 確認用ID/パスワード were given on the send screen: the address may be changed before the code. */
    otpRecovered?: boolean;
    /** The provisional registration typed so far (credentials already hashed). */
    otpDraft?: { address: string; idHash?: string; passwordHash?: string };
  }
}

export const OTP_PATH = '/otp';
const ATTEMPT_COOKIE = 'otpa';
/** Wrong 確認用ID/パスワード pairs per number per day before recovery is refused. */
const RECOVERY_FAILURES_PER_DAY = 5;

type Body = Record<string, string | undefined>;
const field = (req: FastifyRequest, name: string) => {
  const v = (req.body as Body | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

const offered = (ctx: SiteContext, login: SiteLogin) => ctx.deps.config.otp.regions[login.account.region];

/** The login step after the password: where a session goes until the code is entered (or declined). */
export const otpStep: LoginStep = {
  name: 'otp',
  async due(req, login, ctx) {
    if (login.state.otpPassed) return undefined;
    if (!offered(ctx, login)) return undefined;
    const s = await loadOtpSetting(ctx.deps.pool, login.account.number);
    if (!s) return `${OTP_PATH}/choice`;
    if (!s.useOtp) {
      setState(req, { otpPassed: true, otpOffered: true });
      login.state = { ...login.state, otpPassed: true, otpOffered: true };
      return undefined;
    }
    if (!s.address) return s.pendingAddress ? `${OTP_PATH}/registered` : `${OTP_PATH}/register`;
    return `${OTP_PATH}/send`;
  },
};

export function registerOtp(app: FastifyInstance, ctx: SettingsContext) {
  const { deps } = ctx;
  const { pool, clock, config } = deps;
  const footerOf = (login: SiteLogin) => config.mail.footers[login.account.pattern][login.account.region];
  const step = ctx.requireStep('otp');

  /** The step's own pages: open after the password (and a forced パスワード変更), in a region that offers it. */
  const inStep: typeof step = async function (req, reply) {
    await step.call(this, req, reply);
    if (reply.sent) return;
    if (!offered(ctx, req.login)) return reply.redirect('/', 303);
  };
  /**
   * The choice and the full registration before the step is passed: only while the number has no
   * confirmed address. Otherwise someone holding just the password could decline or re-register
   * around the code; they must go through メールアドレスの変更 with 確認用ID/パスワード.
   */
  const setupOpen: typeof step = async function (req, reply) {
    await inStep.call(this, req, reply);
    if (reply.sent || req.login.state.otpPassed) return;
    if ((await loadOtpSetting(pool, req.login.account.number))?.address) return reply.redirect(`${OTP_PATH}/send`, 303);
  };
  /** Change pages from the トップ: a fully logged-in session (gate passed). */
  const afterLogin: typeof step = async function (req, reply) {
    await ctx.requireLogin.call(this, req, reply);
    if (reply.sent) return;
    if (!offered(ctx, req.login)) return reply.redirect('/', 303);
  };
  /** Login complete: the step is passed, a privilege change (a new session id and CSRF secret). */
  async function finishLogin(req: FastifyRequest, reply: FastifyReply, how: string) {
    const state = { ...req.login.state, otpPassed: true, otpOffered: true, otpRecovered: undefined, otpDraft: undefined };
    await ctx.openSession(req, reply, { realm: SETTINGS_REALM, number: req.login.account.number, at: req.login.owner.at });
    setState(req, state);
    reply.clearCookie(ATTEMPT_COOKIE, { path: OTP_PATH });
    await ctx.audit(req, { action: `otp.${how}`, subject: req.login.account.number });
    return reply.redirect('/', 303);
  }

  // ── 利用選択 (first login, and 利用選択変更 from the トップ) ──
  const choicePage = (req: FastifyRequest, reply: FastifyReply, change: boolean, errors: Record<string, string> = {}, status = 200) =>
    ctx.render(req, reply, 'otp-choice', { title: change ? 'ワンタイムパスワード利用選択変更' : 'ワンタイムパスワード利用選択', action: change ? `${OTP_PATH}/change-choice` : `${OTP_PATH}/choice`, errors }, status);
  app.get('/choice', { preHandler: setupOpen }, (req, reply) => choicePage(req, reply, false));
  app.get('/change-choice', { preHandler: afterLogin }, (req, reply) => choicePage(req, reply, true));
  const choose = (change: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    const choice = field(req, 'choice');
    if (choice === 'use') return reply.redirect(`${OTP_PATH}/register`, 303);
    if (choice === 'decline') return reply.redirect(`${OTP_PATH}/decline`, 303);
    return choicePage(req, reply, change, { choice: OTP_MSG.choose }, 400);
  };
  app.post('/choice', { preHandler: setupOpen }, choose(false));
  app.post('/change-choice', { preHandler: afterLogin }, choose(true));

  app.get('/decline', { preHandler: setupOpen }, (req, reply) => ctx.render(req, reply, 'otp-decline', { title: 'ワンタイムパスワードを利用しないことの確認' }));
  app.post('/decline', { preHandler: setupOpen }, async (req, reply) => {
    if (req.login.state.mustChange) return reply.redirect('/password', 303);
    await declineOtp(pool, req.login.account.number);
    if (req.login.state.otpPassed) {
      await ctx.audit(req, { action: 'otp.change_choice', subject: req.login.account.number, detail: { use: false } });
      return ctx.render(req, reply, 'otp-done', { title: 'ワンタイムパスワード利用選択変更', message: 'ワンタイムパスワードを利用しない設定にしました。' });
    }
    return finishLogin(req, reply, 'declined');
  });

  // ── 仮登録 (address + 確認用ID + 確認用パスワード), or address only (change / recovery) ──
  const mayChangeAddress = (login: SiteLogin) => login.state.otpPassed || login.state.otpRecovered;
  const registerPage = (req: FastifyRequest, reply: FastifyReply, full: boolean, values: Record<string, string> = {}, errors: Record<string, string> = {}, status = 200) =>
    ctx.render(
      req,
      reply,
      'otp-register',
      { title: full ? 'ワンタイムパスワード利用情報仮登録' : 'ワンタイムパスワード受信用メールアドレス変更', full, action: full ? `${OTP_PATH}/register` : `${OTP_PATH}/address`, values, errors },
      status,
    );
  app.get('/register', { preHandler: setupOpen }, (req, reply) => registerPage(req, reply, true));
  app.get('/address', { preHandler: step }, async (req, reply) => {
    if (!mayChangeAddress(req.login)) return reply.redirect(`${OTP_PATH}/recover`, 303);
    return registerPage(req, reply, false);
  });
  const takeDraft = (full: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.login.state.mustChange) return reply.redirect(PASSWORD_PATH, 303);
    if (!full && !mayChangeAddress(req.login)) return reply.redirect(`${OTP_PATH}/recover`, 303);
    const address = field(req, 'address').trim();
    const id = field(req, 'checkId');
    const pw = field(req, 'checkPassword');
    const errors: Record<string, string> = {};
    const a = mailAddressRefusal(address);
    if (a) errors.address = ADDRESS_MESSAGES[a];
    if (full) {
      const i = checkIdRefusal(id);
      if (i) errors.checkId = CHECK_ID_MESSAGES[i];
      const p = checkPasswordRefusal(pw);
      if (p) errors.checkPassword = CHECK_PASSWORD_MESSAGES[p];
    }
    if (Object.keys(errors).length) return registerPage(req, reply, full, { address, checkId: id }, errors, 400);
    const draft = full ? { address, idHash: await hashPassword(id), passwordHash: await hashPassword(pw) } : { address };
    setState(req, { otpDraft: draft });
    return ctx.render(req, reply, 'otp-confirm', { title: full ? 'ワンタイムパスワード利用情報仮登録（確認）' : 'ワンタイムパスワード受信用メールアドレス変更（確認）', address, full });
  };
  app.post('/register', { preHandler: setupOpen }, takeDraft(true));
  app.post('/address', { preHandler: step }, takeDraft(false));

  app.post('/register/confirm', { preHandler: step }, async (req, reply) => {
    const login = req.login;
    const draft = login.state.otpDraft;
    if (!draft) return reply.redirect(`${OTP_PATH}/register`, 303);
    // The same doors as the form the draft came from (see setupOpen, mayChangeAddress).
    const full = Boolean(draft.idHash);
    const open = login.state.otpPassed || (full ? !(await loadOtpSetting(pool, login.account.number))?.address : login.state.otpRecovered);
    if (login.state.mustChange || !open) return reply.redirect(`${OTP_PATH}/send`, 303);
    await withTransaction(pool, async (client) => {
      await startRegistration(client, config, clock.now(), {
        number: login.account.number,
        address: draft.address,
        check: draft.idHash && draft.passwordHash ? { idHash: draft.idHash, passwordHash: draft.passwordHash } : undefined,
        pattern: login.account.pattern,
        region: login.account.region,
        publicUrl: ctx.publicUrl(),
      });
      await ctx.audit(req, { action: 'otp.register_pending', subject: login.account.number, detail: { withCheckCredentials: Boolean(draft.idHash) } }, client);
    });
    setState(req, { otpDraft: undefined });
    return reply.redirect(`${OTP_PATH}/registered`, 303);
  });
  app.get('/registered', { preHandler: step }, (req, reply) =>
    ctx.render(req, reply, 'otp-registered', { title: 'ワンタイムパスワード利用情報仮登録完了', ttlHours: config.otp.registrationTtlHours }),
  );

  // ── 本登録 URL (no login needed: it may be opened on another device). A GET shows a button, so a
  // mail scanner fetching the link does not use it up. ──
  app.get('/confirm', (req, reply) => {
    const t = (req.query as Record<string, string | undefined>).t ?? '';
    return ctx.render(req, reply, 'otp-confirm-link', { title: 'メールアドレスの本登録', token: t });
  });
  app.post('/confirm', async (req, reply) => {
    const t = field(req, 't');
    const outcome = /^[A-Za-z0-9_-]{43}$/.test(t) ? await confirmRegistration(pool, sha256(t), clock.now()) : ({ ok: false, why: 'unknown' } as const);
    if (!outcome.ok) {
      await ctx.audit(req, { actor: 'anonymous', action: 'otp.register_link_refused', subject: null, detail: { why: outcome.why } });
      return ctx.errorPage(req, reply, outcome.why === 'expired' ? 410 : 404, { title: 'メールアドレスの本登録', message: outcome.why === 'expired' ? OTP_MSG.linkExpired(config.otp.registrationTtlHours) : OTP_MSG.linkUsed });
    }
    await ctx.audit(req, { actor: outcome.number, action: 'otp.registered', subject: outcome.number });
    // This browser's session of that number may go on to the code; any other is told to log in.
    const owner = req.session.get('owner');
    const mine = owner?.realm === SETTINGS_REALM && owner.number === outcome.number;
    const passed = Boolean(req.session.get('settings')?.otpPassed);
    return ctx.render(req, reply, 'otp-registered-done', { title: 'ワンタイムパスワード利用情報本登録完了', own: mine && !passed, passed: mine && passed });
  });

  // ── ワンタイムパスワードを送信 / 入力 ──
  app.get('/send', { preHandler: inStep }, (req, reply) => ctx.render(req, reply, 'otp-send', { title: 'ワンタイムパスワード送信確認' }));
  app.post('/send', { preHandler: inStep, config: { rateLimit: { max: 30, timeWindow: 60_000 } } }, async (req, reply) => {
    const login = req.login;
    if (login.state.otpPassed) return reply.redirect('/', 303);
    const s = await loadOtpSetting(pool, login.account.number);
    if (!s?.useOtp || !s.address) return reply.redirect('/', 303);
    const address = s.address;
    const now = clock.now();
    const perHour = config.otp.codesPerHour;
    if ((await countAudit(pool, login.account.number, 'otp.code_sent', new Date(now.getTime() - 3_600_000))) >= perHour) {
      return ctx.errorPage(req, reply, 429, { title: 'ワンタイムパスワード送信確認', message: OTP_MSG.codeLimit(perHour) });
    }
    const code = String(randomInt(0, 10 ** OTP_CODE_DIGITS)).padStart(OTP_CODE_DIGITS, '0');
    // The attempt's secret lives only in this browser's cookie; the stored hash covers it.
    const attempt = randomBytes(32).toString('base64url');
    const text = codeMail(login.account.number, code, config.otp.codeTtlSec, footerOf(login), now);
    await withTransaction(pool, async (client) => {
      await createToken(client, { number: login.account.number, kind: 'code', secretHash: sha256(attempt, code), address, expiresAt: new Date(now.getTime() + config.otp.codeTtlSec * 1000) });
      await enqueueMails(client, [{ kind: 'notice', incomingCallId: null, to: address, from: footerOf(login).from, subject: text.subject, body: text.body, charset: config.mail.charset, retryForSec: config.mail.retryForSec }]);
      await ctx.audit(req, { action: 'otp.code_sent', subject: login.account.number }, client);
    });
    reply.setCookie(ATTEMPT_COOKIE, attempt, { path: OTP_PATH, httpOnly: true, sameSite: 'strict', secure: 'auto', signed: true });
    return codePage(req, reply);
  });
  const codePage = (req: FastifyRequest, reply: FastifyReply, errors: Record<string, string> = {}, status = 200) =>
    ctx.render(req, reply, 'otp-code', { title: 'ワンタイムパスワード入力', ttlSec: config.otp.codeTtlSec, errors }, status);

  app.post('/verify', { preHandler: inStep }, async (req, reply) => {
    const login = req.login;
    if (login.state.otpPassed) return reply.redirect('/', 303);
    const raw = req.cookies[ATTEMPT_COOKIE];
    const attempt = raw ? req.unsignCookie(raw) : undefined;
    const code = field(req, 'code').trim();
    const max = config.otp.maxCodeFailures;
    const outcome = attempt?.valid && attempt.value
      ? await checkCode(pool, login.account.number, sha256(attempt.value, code), clock.now(), max)
      : 'none';
    if (outcome === 'ok') return finishLogin(req, reply, 'login');
    if (outcome === 'wrong') {
      await ctx.audit(req, { action: 'otp.code_wrong', subject: login.account.number });
      return codePage(req, reply, { code: OTP_MSG.codeWrong(max - (await codeFailures(pool, login.account.number))) }, 400);
    }
    // Expired, used up or never sent for this attempt: the login starts over with the password.
    await ctx.audit(req, { action: `otp.code_${outcome}`, subject: login.account.number });
    await req.session.destroy();
    req.who = null;
    reply.clearCookie(ATTEMPT_COOKIE, { path: OTP_PATH });
    return ctx.errorPage(req, reply, 401, { title: 'ワンタイムパスワード入力', message: outcome === 'expired' ? OTP_MSG.codeExpired(config.otp.codeTtlSec) : OTP_MSG.codeExhausted });
  });

  // ── メールアドレスの変更 from the send screen: 確認用ID + 確認用パスワード ──
  const recoverPage = (req: FastifyRequest, reply: FastifyReply, errors: Record<string, string> = {}, status = 200) =>
    ctx.render(req, reply, 'otp-recover', { title: 'ワンタイムパスワード受信用メールアドレス変更（確認用ID・パスワード）', errors }, status);
  app.get('/recover', { preHandler: inStep }, (req, reply) => recoverPage(req, reply));
  app.post('/recover', { preHandler: inStep }, async (req, reply) => {
    const number = req.login.account.number;
    const since = new Date(clock.now().getTime() - 86_400_000);
    if ((await countAudit(pool, number, 'otp.check_wrong', since)) >= RECOVERY_FAILURES_PER_DAY) return recoverPage(req, reply, { checkId: OTP_MSG.checkLocked }, 429);
    const s = await loadOtpSetting(pool, number);
    const dummy = await dummyHash();
    const [idOk, pwOk] = await Promise.all([
      verifyPassword(field(req, 'checkId'), s?.checkIdHash ?? dummy),
      verifyPassword(field(req, 'checkPassword'), s?.checkPasswordHash ?? dummy),
    ]);
    if (!(idOk && pwOk && s?.checkIdHash && s.checkPasswordHash)) {
      await ctx.audit(req, { action: 'otp.check_wrong', subject: number });
      return recoverPage(req, reply, { checkPassword: OTP_MSG.checkWrong }, 400);
    }
    setState(req, { otpRecovered: true });
    await ctx.audit(req, { action: 'otp.check_ok', subject: number });
    return reply.redirect(`${OTP_PATH}/address`, 303);
  });

  // ── 確認用ID変更 / 確認用パスワード変更 (after login) ──
  for (const which of ['id', 'password'] as const) {
    const what = which === 'id' ? '確認用ID' : '確認用パスワード';
    const path = which === 'id' ? '/change-id' : '/change-password';
    const page = (req: FastifyRequest, reply: FastifyReply, errors: Record<string, string> = {}, notice?: string, status = 200) =>
      ctx.render(req, reply, 'otp-change-check', { title: `${what}変更`, what, action: `${OTP_PATH}${path}`, errors, notice }, status);
    app.get(path, { preHandler: afterLogin }, (req, reply) => page(req, reply));
    app.post(path, { preHandler: afterLogin }, async (req, reply) => {
      const number = req.login.account.number;
      const s = await loadOtpSetting(pool, number);
      const current = field(req, 'current');
      const next = field(req, 'next');
      const stored = which === 'id' ? s?.checkIdHash : s?.checkPasswordHash;
      if (!(await verifyPassword(current, stored ?? (await dummyHash()))) || !stored) {
        await ctx.audit(req, { action: 'otp.check_wrong', subject: number });
        return page(req, reply, { current: OTP_MSG.currentWrong(what) }, undefined, 400);
      }
      const refusal = which === 'id' ? checkIdRefusal(next) : checkPasswordRefusal(next);
      if (refusal) return page(req, reply, { next: which === 'id' ? CHECK_ID_MESSAGES[refusal as keyof typeof CHECK_ID_MESSAGES] : CHECK_PASSWORD_MESSAGES[refusal as keyof typeof CHECK_PASSWORD_MESSAGES] }, undefined, 400);
      if (next === current) return page(req, reply, { next: OTP_MSG.sameAsCurrent(what) }, undefined, 400);
      if (next !== field(req, 'confirm')) return page(req, reply, { confirm: OTP_MSG.confirmMismatch(what) }, undefined, 400);
      await setCheckCredential(pool, number, which, await hashPassword(next));
      await ctx.audit(req, { action: `otp.change_check_${which}`, subject: number });
      return page(req, reply, {}, OTP_MSG.saved);
    });
  }
}

let dummy: Promise<string> | undefined;
/** Checked against when nothing is stored, so a missing credential costs the same as a wrong one. */
const dummyHash = () => (dummy ??= hashPassword('chakushin-no-such-check-credential'));

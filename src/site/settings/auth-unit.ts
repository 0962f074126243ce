// 認証単位変更 pages (001 p.11–13): トップ → 認証単位変更 → the new unit → the passwords the guide
// asks for → 認証単位変更 → 設定完了. The change is one transaction with its audit row; sessions of
// numbers that lose their login or whose password changed end, and so does the changer's own
// (the new unit decides who logs in as what: everyone logs in again).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_UNIT_NAMES, AUTH_UNITS, type AuthUnit } from '../../domain/subscriber.ts';
import { numbersLosingLogin, planAuthUnitChange, type AuthUnitChangePlan } from '../../domain/auth-unit-change.ts';
import { applyAuthUnitChange } from '../../store/auth-unit-change.ts';
import { endSessionsOf } from '../../store/sessions.ts';
import { loadSiteAccount } from '../../store/site-accounts.ts';
import { withTransaction } from '../../store/transaction.ts';
import { throttledMessage } from '../messages.ts';
import type { SettingsContext } from './context.ts';
import { checkCurrentPassword } from './login.ts';
import { checkLogin } from './session.ts';

export const AUTH_UNIT_PATH = '/auth-unit';

export const AUTH_UNIT_MSG = {
  mainOnly: '管理者／ユーザ単位からの認証単位変更は、契約者回線番号でログインした時のみ行えます。',
  wrong: 'パスワードが正しくありません。',
  empty: 'パスワードを入力してください。',
  noPassword: 'この電話番号にはパスワードが設定されていません（または無効です）。仮パスワードを発行の上、パスワードを設定してから変更してください。',
  stale: '認証単位は別の画面などで既に変更されています。ログインし直してください。',
} as const;

type Body = Record<string, string | undefined>;
const isUnit = (u: string | undefined): u is AuthUnit => (AUTH_UNITS as readonly string[]).includes(u ?? '');
const fieldName = (number: string) => `pw_${number}`;

export function registerAuthUnit(app: FastifyInstance, ctx: SettingsContext) {
  const { deps } = ctx;

  const refuse = (req: FastifyRequest, reply: FastifyReply, message: string, status = 403) =>
    ctx.errorPage(req, reply, status, { title: '認証単位変更', message });

  app.get('/', { preHandler: ctx.requireLogin }, async (req, reply) => {
    const { unit } = req.login;
    const choices = AUTH_UNITS.filter((u) => u !== unit).map((u) => ({ name: AUTH_UNIT_NAMES[u], href: `${AUTH_UNIT_PATH}/${u}` }));
    const allowed = planAuthUnitChange(unit, AUTH_UNITS.find((u) => u !== unit)!, req.login.account, req.login.contract) !== 'main_only';
    return ctx.render(req, reply, 'auth-unit', { title: '認証単位変更', current: AUTH_UNIT_NAMES[unit], choices: allowed ? choices : [], refusal: allowed ? undefined : AUTH_UNIT_MSG.mainOnly });
  });

  const formPage = (req: FastifyRequest, reply: FastifyReply, plan: AuthUnitChangePlan, errors: Record<string, string> = {}, status = 200) =>
    ctx.render(
      req,
      reply,
      'auth-unit-form',
      {
        title: `認証単位変更（${AUTH_UNIT_NAMES[plan.to]}）`,
        action: `${AUTH_UNIT_PATH}/${plan.to}`,
        from: plan.from,
        current: AUTH_UNIT_NAMES[plan.from],
        perNumber: plan.from === 'number',
        fields: plan.passwordsOf.map((n) => ({
          name: plan.from === 'number' ? fieldName(n) : 'password',
          label: plan.from === 'number' ? `パスワード（${n}）` : 'パスワード',
          error: errors[n],
        })),
        errors: Object.fromEntries(Object.entries(errors).map(([n, m]) => [plan.from === 'number' ? fieldName(n) : 'password', plan.from === 'number' ? `${n}：${m}` : m])),
        hints: HINTS[`${plan.from}>${plan.to}`],
      },
      status,
    );

  const planFor = (req: FastifyRequest, to: string | undefined) => {
    if (!isUnit(to)) return undefined;
    return planAuthUnitChange(req.login.unit, to, req.login.account, req.login.contract);
  };

  app.get('/:to', { preHandler: ctx.requireLogin }, async (req, reply) => {
    const plan = planFor(req, (req.params as { to?: string }).to);
    if (!plan) return ctx.errorPage(req, reply, 404);
    if (plan === 'same_unit') return reply.redirect(AUTH_UNIT_PATH, 303);
    if (plan === 'main_only') return refuse(req, reply, AUTH_UNIT_MSG.mainOnly);
    return formPage(req, reply, plan);
  });

  app.post('/:to', { preHandler: ctx.requireLogin }, async (req, reply) => {
    const body = (req.body ?? {}) as Body;
    const login = req.login;
    // The form says which unit it was drawn under; a change made meanwhile (another window) wins.
    if (body.from !== login.unit) return refuse(req, reply, AUTH_UNIT_MSG.stale, 409);
    const plan = planFor(req, (req.params as { to?: string }).to);
    if (!plan) return ctx.errorPage(req, reply, 404);
    if (plan === 'same_unit') return reply.redirect(AUTH_UNIT_PATH, 303);
    if (plan === 'main_only') return refuse(req, reply, AUTH_UNIT_MSG.mainOnly);

    // Every asked-for password is checked (and a wrong one counted against its number, as at login).
    const errors: Record<string, string> = {};
    for (const number of plan.passwordsOf) {
      const entered = body[plan.from === 'number' ? fieldName(number) : 'password'] ?? '';
      const account = number === login.account.number ? login.account : await loadSiteAccount(deps.pool, number);
      if (!account?.password || account.password.lockedAt) errors[number] = AUTH_UNIT_MSG.noPassword;
      else if (!entered) errors[number] = AUTH_UNIT_MSG.empty;
      else {
        const check = await checkCurrentPassword(deps, account, entered, false, req.ip);
        if (check !== 'right') errors[number] = check === 'throttled' ? throttledMessage() : AUTH_UNIT_MSG.wrong;
      }
    }
    if (errors[login.account.number] === AUTH_UNIT_MSG.wrong) {
      // The login's own password may just have been locked by this entry: then the session is over.
      const still = await checkLogin(req, ctx);
      const locked = (await loadSiteAccount(deps.pool, login.account.number))?.password?.lockedAt;
      if (!still.ok || locked) {
        await req.session.destroy();
        return reply.redirect('/', 303);
      }
    }
    if (Object.keys(errors).length) return formPage(req, reply, plan, errors, 400);

    const ended = new Set([...numbersLosingLogin(plan.from, plan.to, login.contract), ...(plan.copy?.to ?? []), ...plan.drop, login.account.number]);
    const applied = await withTransaction(deps.pool, async (client) => {
      if (!(await applyAuthUnitChange(client, login.account.contractId, plan))) return false;
      for (const n of ended) await endSessionsOf(client, n);
      await ctx.audit(
        req,
        { action: 'contract.auth_unit_change', subject: login.account.number, detail: { contract: login.account.contractId, from: plan.from, to: plan.to, passwordCopiedTo: plan.copy?.to ?? [], passwordDropped: plan.drop, sessionsEnded: [...ended] } },
        client,
      );
      return true;
    });
    if (!applied) return refuse(req, reply, AUTH_UNIT_MSG.stale, 409);
    await req.session.destroy();
    req.who = null;
    return ctx.render(req, reply, 'auth-unit-done', { title: '設定完了', to: AUTH_UNIT_NAMES[plan.to], loginHint: LOGIN_HINT[plan.to] });
  });
}

const LOGIN_HINT: Record<AuthUnit, string> = {
  line: 'ログインする際に入力する電話番号は、契約電話番号（契約者回線番号）になります。',
  number: 'ログインする際に入力する電話番号は、設定したい付加サービスをご契約されている電話番号になります。',
  admin_user: '契約電話番号（契約者回線番号）でログインすると管理者として全ての電話番号を、追加電話番号でログインするとユーザとしてその電話番号を設定できます。',
};

// The guide's notes for each transition (001 p.11–13).
const HINTS: Record<string, string[]> = {
  'number>line': [
    '電話番号単位から回線単位に認証変更する場合は、全ての契約電話番号、追加電話番号のパスワードが必要となります。',
    '認証単位変更後のパスワードは、認証単位変更を行った電話番号でログインした際のパスワードとなります。',
  ],
  'number>admin_user': [
    '電話番号単位から管理者／ユーザ単位に認証変更する場合は、全ての契約電話番号、追加電話番号のパスワードが必要となります。',
    '認証単位変更後のパスワードは、契約電話番号、追加電話番号ともに電話番号単位でログインした際のパスワードとなります。',
  ],
  'line>number': [
    '認証単位変更後のパスワードは、契約電話番号、追加電話番号ともに回線単位でログインした際のパスワードとなります。',
    'その他の追加電話番号は仮パスワードを発行の上、本パスワードを設定してください。',
  ],
  'line>admin_user': ['認証単位変更後のパスワードは、回線単位でログインした際のパスワードと同一のパスワードが全ての番号に設定されます。'],
  'admin_user>number': [
    '認証単位変更後のパスワードは、契約電話番号、追加電話番号ともに管理者／ユーザ単位でログインした際のパスワードとなります。',
    'パスワード未設定の電話番号を利用される際は、仮パスワードを発行の上、本パスワードを設定してください。',
  ],
  'admin_user>line': ['認証単位変更後のパスワードは、契約者回線番号でログインした際のパスワードとなります。追加電話番号利用時のパスワードは無効となります。'],
};

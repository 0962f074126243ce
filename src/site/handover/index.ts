// 旧設定サイトからパスワード引継ぎ (設備変更工事, pattern B → A; 000 p.123–124), linked from the new
// site's login page: choose the 認証単位, prove the legacy passwords in its scope, then the case
// the guide's table gives (src/domain/handover.ts): keep the one password, choose one of several,
// or register a new one. Ends with the new site's password set, the contract on the chosen unit,
// and the legacy passwords of those numbers retired, so they can never reset the new one.
// No entered password is kept between requests: equality (同／異) is checked against the stored
// hashes, and a kept password's hash is copied as it is.
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { mayLogIn } from '../../domain/auth-unit.ts';
import { AUTH_UNIT_NAMES, type AuthUnit } from '../../domain/subscriber.ts';
import { decideHandover, HANDOVER_CASE_NAMES, type ProvenOldPassword } from '../../domain/handover.ts';
import { passwordRefusal } from '../../domain/password.ts';
import { isNationalNumber } from '../../domain/phone-number.ts';
import {
  loadLegacyAccount,
  loadLegacyCredentials,
  lockForHandover,
  resetLegacyPasswordFailures,
  retireLegacyCredentials,
  type LegacyAccount,
  type LegacyCredential,
  type LegacyRealm,
} from '../../store/legacy-accounts.ts';
import { hashPassword, verifyPassword } from '../../store/password-hash.ts';
import { endSessionsOf } from '../../store/sessions.ts';
import { contractNumbers, setContractAuthUnit, setSitePassword } from '../../store/site-accounts.ts';
import { withTransaction } from '../../store/transaction.ts';
import type { Realm, SiteContext } from '../foundation.ts';
import { credentialsSince, legacySecrets, provable as canProve } from '../legacy/credentials.ts';
import { attemptLogin } from '../login-attempt.ts';
import { MSG, PASSWORD_MESSAGES, throttledMessage } from '../messages.ts';
import { mailLoginWarning } from '../notices.ts';
import { loginRateLimit } from '../rate-limit-store.ts';

export const HANDOVER_PATH = '/handover';
const HANDOVER_REALM = 'handover';

const SERVICE_NAMES: Record<LegacyRealm, string> = { chakushin_mail: '着信お知らせメール', fax_mail: 'FAXお知らせメール' };
const UNITS: AuthUnit[] = ['line', 'number', 'admin_user'];

interface CredentialRef {
  number: string;
  realm: LegacyRealm;
}
interface ProvenRef extends CredentialRef, ProvenOldPassword {}

/** The hand-over so far, beside its session's owner (the login number). */
export interface HandoverState {
  unit: AuthUnit;
  /** Numbers whose legacy passwords this hand-over covers (and retires). */
  scope: string[];
  proven: ProvenRef[];
  pending: CredentialRef[];
  locked: CredentialRef[];
}

declare module 'fastify' {
  interface Session {
    handover?: HandoverState;
  }
}

const HANDOVER_MSG = {
  failed: '電話番号、認証単位、またはパスワードが正しくありません。',
  unit: '認証単位を選択してください。',
  number: '電話番号はハイフンなしの半角数字で入力してください。',
  alreadyDone: 'この電話番号には、すでにひかり電話設定サイトのパスワードが設定されています。ログイン画面からログインしてください。',
  wrong: 'パスワードが正しくありません。',
  timeout: '一定時間操作がなかったため、パスワード引継ぎを中断しました。はじめからやり直してください。',
  keep: '引き継ぐパスワードを選択してください。',
  done: 'パスワードの引継ぎが完了しました。ひかり電話設定サイトのログイン画面からログインしてください。',
  gone: 'パスワード引継ぎを続けられません。はじめからやり直してください。',
};

type Body = Record<string, string | undefined>;
const body = (req: FastifyRequest) => (req.body ?? {}) as Body;
const raw = (b: Body, k: string) => (typeof b[k] === 'string' ? b[k]! : '');
const label = (c: CredentialRef) => `${c.number}の${SERVICE_NAMES[c.realm]}のパスワード`;
const same = (a: CredentialRef, b: CredentialRef) => a.number === b.number && a.realm === b.realm;

/** The 設備変更工事 hand-over as its own login realm (it proves old passwords; it logs nobody in to a site). */
export function handover(): Realm {
  return {
    name: HANDOVER_REALM,
    prefix: HANDOVER_PATH,
    frame: { brand: 'ひかり電話設定サイト', home: HANDOVER_PATH },
    register,
  };
}

function register(app: FastifyInstance, ctx: SiteContext) {
  const { deps } = ctx;
  const view = (name: string) => `handover/${name}`;
  const page = (req: FastifyRequest, reply: FastifyReply, name: string, data: Record<string, unknown>, status = 200) =>
    ctx.render(req, reply, view(name), { title: '旧設定サイトからパスワード引継ぎ', base: HANDOVER_PATH, errors: {}, ...data }, status);
  const rateLimit = loginRateLimit(deps.config.site.loginRateLimit);

  const startPage = (req: FastifyRequest, reply: FastifyReply, extra: { errors?: Record<string, string>; notice?: string; unit?: string; number?: string } = {}, status = 200) =>
    page(req, reply, 'start', { units: UNITS.map((u) => ({ value: u, name: AUTH_UNIT_NAMES[u] })), unit: extra.unit ?? '', typed: extra.number ?? '', errors: extra.errors ?? {}, notice: extra.notice }, status);

  app.get('/', async (req, reply) => {
    const q = req.query as Record<string, string>;
    return startPage(req, reply, { notice: q.timeout ? HANDOVER_MSG.timeout : q.gone ? HANDOVER_MSG.gone : undefined });
  });

  // 認証単位, 電話番号 and one old password: nothing about the contract is shown before one proves.
  app.post('/', rateLimit, async (req, reply) => {
    const b = body(req);
    const unit = UNITS.find((u) => u === b.unit);
    const number = raw(b, 'number').trim();
    const entered = raw(b, 'password');
    const errors: Record<string, string> = {};
    if (!unit) errors.unit = HANDOVER_MSG.unit;
    if (!isNationalNumber(number)) errors.number = HANDOVER_MSG.number;
    if (!unit || Object.keys(errors).length) return startPage(req, reply, { errors, unit: b.unit, number }, 400);

    const account = await loadLegacyAccount(deps.pool, number);
    const eligible = account && account.pattern === 'A' && mayLogIn(unit, account) ? account : undefined;
    const contract = eligible ? await contractNumbers(deps.pool, eligible.contractId) : [];
    const scope = eligible ? (unit === 'line' ? contract : contract.filter((n) => n.number === number)) : [];
    const creds = (await loadLegacyCredentials(deps.pool, scope)).filter((c) => c.password || c.temp);
    // The login number's own passwords are tried first.
    creds.sort((x, y) => Number(y.number === number) - Number(x.number === number));
    // A wrong entry counts against every old password of the scope; the number named is what the throttle counts.
    const outcome = await attemptLogin(deps, req.ip, {
      subject: number,
      credentialSince: credentialsSince(creds),
      secrets: eligible ? creds.flatMap((c) => legacySecrets(deps, eligible, c, req.ip)) : [],
      entered,
      checks: 2,
      warn: eligible
        ? async (failures) => {
            const noticeTo = await mailLoginWarning(deps.pool, deps.config, eligible, failures, deps.clock.now());
            await ctx.audit(req, { actor: number, action: 'handover.warning', subject: number, detail: { failures, noticeTo } });
          }
        : undefined,
    });
    if (!outcome.ok) {
      await ctx.audit(req, { actor: number, action: outcome.why === 'throttled' ? 'handover.throttled' : 'handover.failed', subject: number, detail: { authUnit: unit } });
      if (outcome.why === 'throttled') return startPage(req, reply, { errors: { form: throttledMessage(outcome.retryAfterSec) }, unit, number }, 429);
      return startPage(req, reply, { errors: { form: HANDOVER_MSG.failed }, unit, number }, 401);
    }
    const first = { cred: outcome.secret.credential, kind: outcome.secret.kind };
    if (eligible!.hasSitePassword) return startPage(req, reply, { notice: HANDOVER_MSG.alreadyDone, unit, number });
    if (first.kind === 'password') await resetLegacyPasswordFailures(deps.pool, first.cred.number, first.cred.realm);

    const contractList = contract.map((n) => n.number);
    const proven: ProvenRef[] = [{ number: first.cred.number, realm: first.cred.realm, kind: first.kind, meetsNewRules: meetsNewRules(entered, first.kind, contractList), group: 0 }];
    const rest = creds.filter((c) => c !== first.cred);
    const provable = rest.filter((c) => canProve(deps, c));
    const locked = rest.filter((c) => !provable.includes(c) && c.password?.lockedAt);
    await ctx.openSession(req, reply, { realm: HANDOVER_REALM, number });
    req.session.set('handover', {
      unit,
      scope: scope.map((n) => n.number),
      proven,
      pending: provable.map((c) => ({ number: c.number, realm: c.realm })),
      locked: locked.map((c) => ({ number: c.number, realm: c.realm })),
    });
    await ctx.audit(req, { actor: number, action: 'handover.start', subject: number, detail: { authUnit: unit, credentials: creds.length } });
    return reply.redirect(`${HANDOVER_PATH}/${provable.length ? 'passwords' : 'result'}`, 303);
  });

  /** The realm's login hook: a hand-over under way, within the session limits, of a number still to hand over. */
  const inProgress: preHandlerAsyncHookHandler = async (req, reply) => {
    const session = await ctx.sessionOf(req, HANDOVER_REALM);
    const state = req.session.get('handover');
    if (!session.ok || !state) return reply.redirect(session.ok || session.why === 'none' ? HANDOVER_PATH : `${HANDOVER_PATH}?timeout=1`, 303);
    const account = await loadLegacyAccount(deps.pool, session.owner.number!);
    if (!account || account.pattern !== 'A' || account.hasSitePassword) {
      await req.session.destroy();
      return reply.redirect(`${HANDOVER_PATH}?gone=1`, 303);
    }
    req.who = account.number;
  };
  const state = (req: FastifyRequest) => ({ ...req.session.get('handover')!, number: req.session.get('owner')!.number! });

  // The other old passwords of the scope (パスワード統合 needs each of them).
  const passwordsPage = (req: FastifyRequest, reply: FastifyReply, errors: Record<string, string> = {}, status = 200) => {
    const s = state(req);
    return page(req, reply, 'passwords', {
      number: s.number,
      unitName: AUTH_UNIT_NAMES[s.unit],
      proven: s.proven.map(label),
      pending: s.pending.map((c, i) => ({ name: `p${i}`, label: label(c) })),
      locked: s.locked.map(label),
      errors,
    }, status);
  };
  app.get('/passwords', { preHandler: inProgress }, async (req, reply) => {
    if (!state(req).pending.length) return reply.redirect(`${HANDOVER_PATH}/result`, 303);
    return passwordsPage(req, reply);
  });
  app.post('/passwords', { preHandler: inProgress, ...rateLimit }, async (req, reply) => {
    const s = state(req);
    const b = body(req);
    const account = (await loadLegacyAccount(deps.pool, s.number))!;
    const contractList = (await contractNumbers(deps.pool, account.contractId)).map((n) => n.number);
    const refs = [...s.pending];
    const creds = await loadCreds(refs, account);
    const provenCreds = await loadCreds(s.proven, account);
    const proven = [...s.proven];
    const pending: CredentialRef[] = [];
    const locked = [...s.locked];
    const errors: Record<string, string> = {};
    for (const [i, ref] of refs.entries()) {
      const entered = raw(b, `p${i}`);
      const cred = creds[i];
      const outcome = await attemptLogin(deps, req.ip, {
        subject: ref.number,
        credentialSince: credentialsSince(cred ? [cred] : []),
        secrets: cred ? legacySecrets(deps, account, cred, req.ip) : [],
        entered,
        checks: 2,
      });
      if (!outcome.ok) {
        // 10 wrong entries just locked it: it now only forces a new password (the guide's row).
        const [after] = cred ? await loadCreds([ref], account) : [];
        if (after?.password?.lockedAt) locked.push(ref);
        else {
          pending.push(ref);
          errors[`p${pending.length - 1}`] = `${label(ref)}：${outcome.why === 'throttled' ? throttledMessage(outcome.retryAfterSec) : HANDOVER_MSG.wrong}`;
        }
        continue;
      }
      const kind = outcome.secret.kind;
      if (kind === 'password') await resetLegacyPasswordFailures(deps.pool, ref.number, ref.realm);
      // 同／異: the same value as an already proven password joins its group.
      let group = -1;
      for (const [j, p] of proven.entries()) {
        const hash = provenHash(p, provenCreds[j]);
        if (hash && (await verifyPassword(entered, hash))) {
          group = p.group;
          break;
        }
      }
      if (group < 0) group = Math.max(...proven.map((p) => p.group)) + 1;
      proven.push({ ...ref, kind, meetsNewRules: meetsNewRules(entered, kind, contractList), group });
      provenCreds.push(cred);
    }
    req.session.set('handover', { unit: s.unit, scope: s.scope, proven, pending, locked });
    await ctx.audit(req, { actor: s.number, action: 'handover.passwords', subject: s.number, detail: { proven: proven.length, pending: pending.length, locked: locked.length } });
    if (pending.length) return passwordsPage(req, reply, errors, 400);
    return reply.redirect(`${HANDOVER_PATH}/result`, 303);
  });

  const loadCreds = async (refs: readonly CredentialRef[], account: LegacyAccount) => {
    const contract = await contractNumbers(deps.pool, account.contractId);
    const all = await loadLegacyCredentials(deps.pool, contract);
    return refs.map((r) => all.find((c) => same(c, r)));
  };
  const provenHash = (p: ProvenRef, c: LegacyCredential | undefined) => (p.kind === 'temp' ? c?.temp?.hash : c?.password?.hash);

  const resultPage = (req: FastifyRequest, reply: FastifyReply, errors: Record<string, string> = {}, status = 200) => {
    const s = state(req);
    const decision = decideHandover(s.proven, s.locked.length);
    const choices = decision.keepable.map((g) => ({ value: String(g), label: s.proven.filter((p) => p.group === g).map(label).join('、') }));
    return page(req, reply, 'result', {
      number: s.number,
      unitName: AUTH_UNIT_NAMES[s.unit],
      caseNumber: decision.case,
      caseName: HANDOVER_CASE_NAMES[decision.case],
      locked: s.locked.map(label),
      choices,
      errors,
    }, status);
  };
  app.get('/result', { preHandler: inProgress }, async (req, reply) => {
    if (state(req).pending.length) return reply.redirect(`${HANDOVER_PATH}/passwords`, 303);
    return resultPage(req, reply);
  });

  app.post('/result', { preHandler: inProgress }, async (req, reply) => {
    const s = state(req);
    if (s.pending.length) return reply.redirect(`${HANDOVER_PATH}/passwords`, 303);
    const b = body(req);
    const account = (await loadLegacyAccount(deps.pool, s.number))!;
    const contract = await contractNumbers(deps.pool, account.contractId);
    const provenCreds = await loadCreds(s.proven, account);
    const decision = decideHandover(s.proven, s.locked.length);
    let hash: string | undefined;
    if (decision.case === 1 || decision.case === 3) {
      const group = decision.case === 1 ? decision.keepable[0] : decision.keepable.find((g) => String(g) === b.keep);
      if (group === undefined) return resultPage(req, reply, { keep: HANDOVER_MSG.keep }, 400);
      const i = s.proven.findIndex((p) => p.group === group);
      // The kept password's own hash: the value is never seen again.
      hash = provenCreds[i]?.password?.hash;
      if (!hash) return reply.redirect(`${HANDOVER_PATH}?gone=1`, 303);
    } else {
      const next = raw(b, 'next');
      let sameAsOld = false;
      for (const [i, p] of s.proven.entries()) {
        const h = provenHash(p, provenCreds[i]);
        if (h && (await verifyPassword(next, h))) sameAsOld = true;
      }
      const refusal = passwordRefusal(next, { sameAsCurrent: sameAsOld, contractNumbers: contract.map((n) => n.number) });
      if (refusal) return resultPage(req, reply, { next: PASSWORD_MESSAGES[refusal] }, 400);
      if (next !== raw(b, 'confirm')) return resultPage(req, reply, { confirm: MSG.confirmMismatch }, 400);
      hash = await hashPassword(next);
    }
    const kept = hash;
    const done = await withTransaction(deps.pool, async (client) => {
      // One hand-over per number at a time, and never over a password the new site already has.
      if (!(await lockForHandover(client, s.number))) return false;
      await setSitePassword(client, s.number, kept, deps.clock.now());
      await setContractAuthUnit(client, account.contractId, s.unit);
      await retireLegacyCredentials(client, s.scope);
      await endSessionsOf(client, s.number);
      await ctx.audit(req, { actor: s.number, action: 'handover.done', subject: s.number, detail: { case: decision.case, authUnit: s.unit, numbers: s.scope.length } }, client);
      return true;
    });
    await req.session.destroy();
    if (!done) return reply.redirect(`${HANDOVER_PATH}?gone=1`, 303);
    return page(req, reply, 'done', { notice: HANDOVER_MSG.done, caseName: HANDOVER_CASE_NAMES[decision.case] });
  });
}

/** Whether an old password may stay as the new site's password as it is (a temp password never may). */
function meetsNewRules(entered: string, kind: 'password' | 'temp', contractNumbers: string[]): boolean {
  return kind === 'password' && passwordRefusal(entered, { sameAsCurrent: false, contractNumbers }) === undefined;
}

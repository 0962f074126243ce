// The サービス申込受付ページ for 回線情報通知機能 (manual 004), mounted on the site under its own
// prefix: ログイン → トップ → ご利用状況詳細 (or 通知先追加 → 「通知」設定登録) → 同意書 →
// 申込者情報入力 → 変更内容確認 → 受付完了. The steps after the choice of providers live in the
// session and run in order; a page asked for out of turn sends the browser to the step it is on.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { applicantName, applicantRefusals, receiptNumber, receiptTime, settingDate } from '../../domain/line-info.ts';
import { acceptApplication, lineExists, loadApplication, lockLine, providersById, providerStates, type Application, type ProviderState } from '../../store/line-info.ts';
import { withTransaction } from '../../store/transaction.ts';
import { VIEWS_DIR, type Realm, type SiteContext } from '../foundation.ts';
import { throttledMessage } from '../messages.ts';
import { logInLine } from './login.ts';
import { LOOKUP_API_PATH, lookupApi } from './lookup-api.ts';
import { applicantMessage, LINE_MSG, METHOD_LABEL, SETTING_LABEL } from './messages.ts';
import { LINE_INFO_REALM, setFlow, STAGES, type ApplicantForm, type LineInfoFlow, type Stage } from './session.ts';

type Body = Record<string, string | string[] | undefined>;
const field = (req: FastifyRequest, name: string) => {
  const v = (req.body as Body | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};
const fieldList = (req: FastifyRequest, name: string) => {
  const v = (req.body as Body | undefined)?.[name];
  return (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []).filter((x) => typeof x === 'string');
};

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the realm's login hook: the お客さまID logged in, and its application under way. */
    lineInfo: { customerId: string; flow?: LineInfoFlow };
  }
}

const STAGE_PATH: Record<Stage, string> = { consent: '/consent', applicant: '/applicant', confirm: '/confirm', done: '/done' };
const stageIndex = (s: Stage) => STAGES.indexOf(s);

/** The サービス申込受付ページ as one login realm under lineInfo.path; its lookup API answers JSON. */
export function lineInfo(prefix: string): Realm {
  return {
    name: LINE_INFO_REALM,
    prefix,
    apiPrefix: `${prefix}${LOOKUP_API_PATH}`,
    frame: { brand: 'サービス申込受付ページ', home: `${prefix}/`, logout: { action: `${prefix}/logout`, label: 'ログアウト' }, stylesheets: [`${prefix}/static/line-info.css`] },
    register: (app, ctx) => register(app, ctx, prefix),
  };
}

async function register(app: FastifyInstance, ctx: SiteContext, base: string) {
  const { deps } = ctx;
  const cfg = deps.config.lineInfo;
  const assets = {
    css: await readFile(path.join(VIEWS_DIR, 'line-info', 'line-info.css'), 'utf8'),
    js: await readFile(path.join(VIEWS_DIR, 'line-info', 'print.js'), 'utf8'),
  };
  app.decorateRequest('lineInfo', null as never);

  const render = (req: FastifyRequest, reply: FastifyReply, view: string, data: Record<string, unknown> = {}, status = 200) =>
    ctx.render(req, reply, `line-info/${view}`, { base, customerId: req.lineInfo?.customerId ?? null, errors: {}, ...data }, status);

  app.get('/static/line-info.css', (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(assets.css));
  app.get('/static/print.js', (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(assets.js));

  /** The session of an お客さまID whose line still exists, or the login page. */
  const loggedIn = async (req: FastifyRequest): Promise<'none' | 'timeout' | undefined> => {
    const session = await ctx.sessionOf(req, LINE_INFO_REALM);
    if (!session.ok) return session.why;
    const customerId = session.owner.customerId!;
    if (!(await lineExists(deps.pool, customerId))) {
      await req.session.destroy();
      return 'none';
    }
    req.lineInfo = { customerId, flow: req.session.get('lineInfo')?.flow };
    req.who = customerId;
    return undefined;
  };
  /** The realm's login hook. */
  const requireLine: preHandlerAsyncHookHandler = async function (req, reply) {
    const why = await loggedIn(req);
    if (why) return reply.redirect(why === 'timeout' ? `${base}/?timeout=1` : `${base}/`, 303);
  };
  /** A step page: the flow must have reached `stage` (and not be finished, unless `stage` is done). */
  const requireStage = (stage: Stage, opts: { exact?: boolean } = {}): preHandlerAsyncHookHandler =>
    async function (req, reply) {
      await requireLine.call(this, req, reply);
      if (reply.sent) return;
      const flow = req.lineInfo.flow;
      if (!flow) return reply.redirect(`${base}/detail`, 303);
      const at = stageIndex(flow.stage);
      const want = stageIndex(stage);
      const doneElsewhere = flow.stage === 'done' && stage !== 'done';
      if (doneElsewhere) return reply.redirect(`${base}/detail`, 303);
      if (at < want || (opts.exact && at !== want)) return reply.redirect(`${base}${STAGE_PATH[flow.stage]}`, 303);
    };

  // ---- ログイン / トップ ------------------------------------------------------------------
  const loginPage = (req: FastifyRequest, reply: FastifyReply, extra: { notice?: string; error?: string; id?: string } = {}, status = 200) =>
    render(req, reply, 'login', { title: 'サービス申込受付ページ ログイン', notice: extra.notice, errors: extra.error ? { form: extra.error } : {}, values: { id: extra.id ?? '' } }, status);

  app.get('/', async (req, reply) => {
    const why = await loggedIn(req);
    if (why) {
      const q = req.query as Record<string, string>;
      return loginPage(req, reply, { notice: why === 'timeout' || q.timeout ? LINE_MSG.timeout : q.bye ? LINE_MSG.loggedOut : undefined });
    }
    const providers = await providerStates(deps.pool, req.lineInfo.customerId);
    const status = providers.some((p) => p.notifySince) ? '通知' : '---';
    return render(req, reply, 'top', { title: 'サービス申込受付ページ', status });
  });

  app.post('/login', async (req, reply) => {
    const id = field(req, 'customerId');
    const result = await logInLine(deps, id, field(req, 'accessKey'), req.ip);
    if (!result.ok) {
      const error = result.why === 'limited' ? LINE_MSG.loginLimited : result.why === 'throttled' ? throttledMessage(result.retryAfterSec).replace('電話番号', 'フレッツナンバー') : LINE_MSG.loginFailed;
      return loginPage(req, reply, { error, id: id.trim() }, result.why === 'wrong' ? 401 : 429);
    }
    // A fresh session holding this realm only: a settings-site login in the same browser ends here.
    await ctx.openSession(req, reply, { realm: LINE_INFO_REALM, customerId: result.customerId });
    return reply.redirect(`${base}/`, 303);
  });

  app.post('/logout', async (req, reply) => {
    const owner = req.session.get('owner');
    if (owner?.realm === LINE_INFO_REALM) await ctx.audit(req, { action: 'line_info.logout', subject: owner.customerId ?? null });
    await req.session.destroy();
    return reply.redirect(`${base}/?bye=1`, 303);
  });

  // ---- ご利用状況詳細 / 「通知」設定登録 ----------------------------------------------------
  const rows = (ps: ProviderState[]) =>
    ps.map((p) => ({ ...p, setOn: p.notifySince ? settingDate(p.notifySince) : '', methodLabel: p.method ? METHOD_LABEL[p.method] : '' }));

  const detailPage = async (req: FastifyRequest, reply: FastifyReply, extra: { error?: string; notice?: string } = {}, status = 200) => {
    const ps = await providerStates(deps.pool, req.lineInfo.customerId);
    return render(req, reply, 'detail', { title: '回線情報通知 ご利用状況詳細', providers: rows(ps.filter((p) => p.notifySince)), ...extra }, status);
  };
  const addPage = async (req: FastifyRequest, reply: FastifyReply, extra: { error?: string } = {}, status = 200) => {
    const ps = await providerStates(deps.pool, req.lineInfo.customerId);
    return render(req, reply, 'add', { title: '回線情報通知「通知」設定登録', providers: rows(ps.filter((p) => !p.notifySince)), ...extra }, status);
  };

  app.get('/detail', { preHandler: requireLine }, async (req, reply) => {
    const refused = (req.query as Record<string, string>).refused;
    return detailPage(req, reply, { notice: refused ? LINE_MSG.refused : undefined });
  });
  app.get('/add', { preHandler: requireLine }, async (req, reply) => addPage(req, reply));

  /**
   * Starts a flow for providers chosen on a list, if each is still in the state the list showed.
   * Says whether it did; the caller answers. (A reply is thenable: awaiting one would wait for the
   * response to finish, and an `?? page` after it would answer a second time.)
   */
  const startFlow = async (req: FastifyRequest, setting: LineInfoFlow['setting'], chosen: string[]): Promise<boolean> => {
    const ps = await providerStates(deps.pool, req.lineInfo.customerId);
    const eligible = (id: string) => ps.some((p) => p.id === id && !p.pending && (setting === 'stop' ? p.notifySince : !p.notifySince));
    if (!chosen.every(eligible)) return false;
    setFlow(req, { setting, providerIds: [...new Set(chosen)], stage: 'consent', token: randomBytes(16).toString('base64url') });
    return true;
  };

  app.post('/detail', { preHandler: requireLine }, async (req, reply) => {
    const chosen = fieldList(req, 'provider');
    if (!chosen.length) return detailPage(req, reply, { error: LINE_MSG.chooseStop }, 400);
    if (!(await startFlow(req, 'stop', chosen))) return detailPage(req, reply, { error: LINE_MSG.changedMeanwhile }, 409);
    return reply.redirect(`${base}/consent`, 303);
  });
  app.post('/add', { preHandler: requireLine }, async (req, reply) => {
    const chosen = field(req, 'provider');
    if (!chosen) return addPage(req, reply, { error: LINE_MSG.chooseNotify }, 400);
    if (!(await startFlow(req, 'notify', [chosen]))) return addPage(req, reply, { error: LINE_MSG.changedMeanwhile }, 409);
    return reply.redirect(`${base}/consent`, 303);
  });

  // ---- 同意書 ------------------------------------------------------------------------------
  app.get('/consent', { preHandler: requireStage('consent') }, async (req, reply) =>
    render(req, reply, 'consent', { title: '「回線情報通知」の利用にあたっての同意書', sections: cfg.consent }),
  );
  app.post('/consent', { preHandler: requireStage('consent') }, async (req, reply) => {
    const flow = req.lineInfo.flow!;
    if (field(req, 'answer') !== 'agree') {
      // 同意しない: back to ご利用状況詳細, nothing applied for.
      setFlow(req, undefined);
      await ctx.audit(req, { actor: req.lineInfo.customerId, action: 'line_info.consent_refused', subject: req.lineInfo.customerId, detail: { setting: flow.setting, providers: flow.providerIds } });
      return reply.redirect(`${base}/detail?refused=1`, 303);
    }
    if (flow.stage === 'consent') setFlow(req, { ...flow, stage: 'applicant' });
    return reply.redirect(`${base}/applicant`, 303);
  });

  // ---- 申込者情報入力 ------------------------------------------------------------------------
  const applicantPage = (req: FastifyRequest, reply: FastifyReply, values: ApplicantForm, errors: Record<string, string> = {}, status = 200) =>
    render(req, reply, 'applicant', { title: '回線情報通知 申込者情報入力', values, errors, nameMax: cfg.applicant.nameMaxLength, forbidden: cfg.applicant.forbiddenCharacters }, status);

  app.get('/applicant', { preHandler: requireStage('applicant') }, async (req, reply) =>
    applicantPage(req, reply, req.lineInfo.flow!.applicant ?? { name: '', phone: '', mail: '', completionMail: false }),
  );
  app.post('/applicant', { preHandler: requireStage('applicant') }, async (req, reply) => {
    const values: ApplicantForm = { name: field(req, 'name'), phone: field(req, 'phone'), mail: field(req, 'mail'), completionMail: field(req, 'completionMail') === 'yes' };
    const refusals = applicantRefusals(values, cfg.applicant);
    if (refusals.length) {
      const errors = Object.fromEntries(refusals.map((r) => [r.field, applicantMessage(r, cfg.applicant.nameMaxLength)]));
      return applicantPage(req, reply, values, errors, 400);
    }
    const trimmed = { name: applicantName(values.name), phone: values.phone.trim(), mail: values.mail.trim(), completionMail: values.completionMail };
    setFlow(req, { ...req.lineInfo.flow!, applicant: trimmed, stage: 'confirm' });
    return reply.redirect(`${base}/confirm`, 303);
  });

  // ---- 変更内容確認 --------------------------------------------------------------------------
  const changeRows = async (setting: LineInfoFlow['setting'], ids: string[]) => {
    const names = await providersById(deps.pool, ids);
    return ids.map((id) => ({ id, serviceName: names.get(id)?.serviceName ?? id, name: names.get(id)?.name ?? id, after: SETTING_LABEL[setting] }));
  };

  app.get('/confirm', { preHandler: requireStage('confirm', { exact: true }) }, async (req, reply) => {
    const flow = req.lineInfo.flow!;
    return render(req, reply, 'confirm', {
      title: '回線情報通知 変更内容確認',
      changes: await changeRows(flow.setting, flow.providerIds),
      applicant: flow.applicant,
      token: flow.token,
      setting: flow.setting,
    });
  });

  app.post('/confirm', { preHandler: requireLine }, async (req, reply) => {
    const flow = req.lineInfo.flow;
    const token = field(req, 'token');
    // A second 変更 of a page already accepted (double submit, reload): the same receipt.
    if (flow?.stage === 'done' && flow.token === token) return reply.redirect(`${base}/done`, 303);
    if (!flow || flow.stage !== 'confirm' || flow.token !== token || !flow.applicant) {
      return reply.redirect(flow && flow.stage !== 'done' ? `${base}${STAGE_PATH[flow.stage]}` : `${base}/detail`, 303);
    }
    const customerId = req.lineInfo.customerId;
    const now = deps.clock.now();
    const application: Application | undefined = await withTransaction(deps.pool, async (client) => {
      // One application at a time per line: the checks below and the new application see the same state.
      await lockLine(client, customerId);
      const a = flow.applicant!;
      const result = await acceptApplication(client, {
        customerId,
        idempotencyKey: flow.token,
        setting: flow.setting,
        providerIds: flow.providerIds,
        applicant: { name: a.name, phone: a.phone, mail: a.mail || null, completionMail: a.completionMail },
        acceptedAt: now,
        dueAt: new Date(now.getTime() + cfg.workDelayMin * 60_000),
        receiptNo: (seq) => receiptNumber(now, seq),
        stillValid: async () => {
          const ps = await providerStates(client, customerId);
          return flow.providerIds.every((id) => ps.some((p) => p.id === id && !p.pending && (flow.setting === 'stop' ? p.notifySince : !p.notifySince)));
        },
      });
      if (result?.created) {
        await ctx.audit(req, { actor: customerId, action: 'line_info.apply', subject: customerId, detail: { receiptNo: result.application.receiptNo, setting: flow.setting, providers: flow.providerIds } }, client);
      }
      return result?.application;
    });
    if (!application) {
      // Changed in another window meanwhile: nothing accepted, choose again.
      setFlow(req, undefined);
      return detailPage(req, reply, { error: LINE_MSG.changedMeanwhile }, 409);
    }
    setFlow(req, { ...flow, stage: 'done', applicationId: application.id });
    return reply.redirect(`${base}/done`, 303);
  });

  // ---- 受付完了 ------------------------------------------------------------------------------
  const receipt = async (req: FastifyRequest) => {
    const flow = req.lineInfo.flow!;
    const a = (await loadApplication(deps.pool, req.lineInfo.customerId, flow.applicationId!))!;
    return {
      receiptNo: a.receiptNo,
      acceptedAt: receiptTime(a.acceptedAt),
      dueAt: receiptTime(a.dueAt),
      changes: await changeRows(a.setting, a.providerIds),
      applicant: a.applicant,
      done: a.state === 'done',
    };
  };
  /** The receipt page runs one script of this origin (the print button); the rest of the site runs none. */
  const allowOwnScript = (reply: FastifyReply) => {
    const csp = reply.getHeader('content-security-policy');
    if (typeof csp === 'string') reply.header('content-security-policy', `${csp};script-src 'self'`);
  };
  app.get('/done', { preHandler: requireStage('done') }, async (req, reply) => {
    allowOwnScript(reply);
    return render(req, reply, 'done', { title: '回線情報通知 変更受付完了', ...(await receipt(req)) });
  });
  // Without JavaScript the print button lands here: the receipt alone, for the browser's own print.
  app.get('/done/print', { preHandler: requireStage('done') }, async (req, reply) =>
    render(req, reply, 'print', { title: '回線情報通知 変更受付完了（印刷用）', ...(await receipt(req)) }),
  );

  await app.register(lookupApi(deps), { prefix: LOOKUP_API_PATH });
}

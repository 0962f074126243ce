// The サービス申込受付ページ for 回線情報通知機能 (manual 004), mounted on the site under its own
// prefix: ログイン → トップ → ご利用状況詳細 (or 通知先追加 → 「通知」設定登録) → 同意書 →
// 申込者情報入力 → 変更内容確認 → 受付完了. The steps after the choice of providers live in the
// session and run in order; a page asked for out of turn sends the browser to the step it is on.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { applicantName, applicantRefusals, receiptNumber, receiptTime, settingDate } from '../../domain/line-info.ts';
import { acceptApplication, loadApplication, providersById, providerStates, type Application, type ProviderState } from '../../store/line-info.ts';
import { VIEWS_DIR, type PageSet, type SiteContext } from '../foundation.ts';
import { logInLine } from './login.ts';
import { lookupApi } from './lookup-api.ts';
import { applicantMessage, LINE_MSG, METHOD_LABEL, SETTING_LABEL } from './messages.ts';
import { checkLineInfoLogin, redirectToLineInfoLogin, setFlow, STAGES, type ApplicantForm, type LineInfoFlow, type LineInfoLoginState, type Stage } from './session.ts';

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
    /** Set by the line-info login check. */
    lineInfo: LineInfoLoginState;
  }
}

const STAGE_PATH: Record<Stage, string> = { consent: '/consent', applicant: '/applicant', confirm: '/confirm', done: '/done' };
const stageIndex = (s: Stage) => STAGES.indexOf(s);

export function lineInfoPages(prefix: string): PageSet {
  return { prefix, register: (app, ctx) => register(app, ctx, prefix) };
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

  // Refusals here are drawn in this page's own layout, not the settings site's.
  app.setNotFoundHandler((req, reply) => render(req, reply, 'error', { title: 'ページが見つかりません', message: 'お探しのページは見つかりませんでした。' }, 404));
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err.code?.startsWith('FST_CSRF')) {
      return render(req, reply, 'error', { title: '操作を受け付けられませんでした', message: '画面の有効期限が切れたか、正しくない画面からの操作です。画面を読み込み直してから、もう一度操作してください。' }, 403);
    }
    if (err.statusCode && err.statusCode < 500) {
      return render(req, reply, 'error', { title: '操作を受け付けられませんでした', message: '入力の形式が正しくありません。' }, err.statusCode);
    }
    req.log.error({ err: err.message, url: req.url.split('?')[0] }, 'line-info handler failed');
    return render(req, reply, 'error', { title: 'エラー', message: 'ただいま処理できません。しばらくしてから、もう一度お試しください。' }, 500);
  });

  app.get('/static/line-info.css', (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(assets.css));
  app.get('/static/print.js', (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(assets.js));

  const requireLine: preHandlerAsyncHookHandler = async function (req, reply) {
    const check = await checkLineInfoLogin(req, deps.pool, deps.clock, ctx.limits);
    if (!check.ok) return redirectToLineInfoLogin(reply, base, check.why);
    req.lineInfo = check.state;
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
    render(req, reply, 'login', { title: 'サービス申込受付ページ ログイン', notice: extra.notice, errors: extra.error ? { accessKey: extra.error } : {}, values: { id: extra.id ?? '' } }, status);

  app.get('/', async (req, reply) => {
    const check = await checkLineInfoLogin(req, deps.pool, deps.clock, ctx.limits);
    if (!check.ok) {
      const q = req.query as Record<string, string>;
      return loginPage(req, reply, { notice: check.why === 'timeout' || q.timeout ? LINE_MSG.timeout : q.bye ? LINE_MSG.loggedOut : undefined });
    }
    req.lineInfo = check.state;
    const providers = await providerStates(deps.pool, check.state.customerId);
    const status = providers.some((p) => p.notifySince) ? '通知' : '---';
    return render(req, reply, 'top', { title: 'サービス申込受付ページ', status });
  });

  app.post('/login', async (req, reply) => {
    const id = field(req, 'customerId');
    const result = await logInLine(deps, id, field(req, 'accessKey'), req.ip);
    if (!result.ok) {
      const limited = result.why === 'limited';
      return loginPage(req, reply, { error: limited ? LINE_MSG.loginLimited : LINE_MSG.loginFailed, id: id.trim() }, limited ? 429 : 401);
    }
    // A fresh session id, holding this realm only: a settings-site login in the same browser ends here.
    await req.session.regenerate();
    const now = deps.clock.now().getTime();
    req.session.set('lineInfo', { customerId: result.customerId, at: now, lastSeen: now });
    return reply.redirect(`${base}/`, 303);
  });

  app.post('/logout', async (req, reply) => {
    const state = req.session.get('lineInfo');
    if (state) await ctx.audit(req, { actor: state.customerId, action: 'line_info.logout', subject: state.customerId });
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

  /** Starts a flow for providers chosen on a list, if each is still in the state the list showed. */
  const startFlow = async (req: FastifyRequest, reply: FastifyReply, setting: LineInfoFlow['setting'], chosen: string[]) => {
    const ps = await providerStates(deps.pool, req.lineInfo.customerId);
    const eligible = (id: string) => ps.some((p) => p.id === id && !p.pending && (setting === 'stop' ? p.notifySince : !p.notifySince));
    if (!chosen.every(eligible)) return undefined;
    setFlow(req, { setting, providerIds: [...new Set(chosen)], stage: 'consent', token: randomBytes(16).toString('base64url') });
    return reply.redirect(`${base}/consent`, 303);
  };

  app.post('/detail', { preHandler: requireLine }, async (req, reply) => {
    const chosen = fieldList(req, 'provider');
    if (!chosen.length) return detailPage(req, reply, { error: LINE_MSG.chooseStop }, 400);
    return (await startFlow(req, reply, 'stop', chosen)) ?? detailPage(req, reply, { error: LINE_MSG.changedMeanwhile }, 409);
  });
  app.post('/add', { preHandler: requireLine }, async (req, reply) => {
    const chosen = field(req, 'provider');
    if (!chosen) return addPage(req, reply, { error: LINE_MSG.chooseNotify }, 400);
    return (await startFlow(req, reply, 'notify', [chosen])) ?? addPage(req, reply, { error: LINE_MSG.changedMeanwhile }, 409);
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
    const client = await deps.pool.connect();
    let application: Application | undefined;
    try {
      await client.query('begin');
      // One application at a time per line: the checks below and the insert see the same state.
      await client.query('select 1 from line_info_line where customer_id = $1 for update', [customerId]);
      const a = flow.applicant;
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
      await client.query('commit');
      application = result?.application;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
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

  await app.register(lookupApi(deps), { prefix: '/api' });
}

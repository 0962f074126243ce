// ボイスワープ on the 設定サイト (002 p.58): 開始／停止設定 (開始/停止, 転送条件, 呼出秒数, 転送ガイダンス),
// 転送先電話番号設定, セレクト機能開始／停止設定 (開始/停止, 登録番号転送/登録番号着信) and セレクト機能リスト設定
// (numbers added and removed one at a time, paged). Each form saves one part through the store
// (saveVoiceWarpChange): the domain's rules, the stale-form check and the audit row in one
// transaction, as the phone menu and provisioning do. 電話番号選択, サービスメニュー and the scope check
// come from common-pages.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  CONDITION_NAMES, DESTINATION_MESSAGES, FORWARD_CONDITIONS, normaliseDialled, RING_SECONDS, SELECT_MODE_NAMES, SELECT_MODES,
  type ForwardCondition, type SelectMode, type VoiceWarpChange,
} from '../../../domain/voice-warp.ts';
import { readVoiceWarpSettings, saveVoiceWarpChange, StaleFormError, VoiceWarpRefusedError, type StoredVoiceWarp } from '../../../store/voice-warp-settings.ts';
import { MSG } from '../../messages.ts';
import { NUMBERS_PER_PAGE, pageOf } from '../../paging.ts';
import { body, FormError, text, type Body, type Errors } from '../../settings-form.ts';
import type { ServiceContext, ServicePages } from './service-pages.ts';

export const VOICE_WARP_MSG = {
  removed: '転送先電話番号を削除しました。',
  added: (n: string) => `${n}をセレクト機能リストに追加しました。`,
  listRemoved: (n: string) => `${n}をセレクト機能リストから削除しました。`,
  notListed: 'この電話番号はセレクト機能リストに登録されていません。',
};

export const voiceWarp: ServicePages = {
  service: 'voice_warp',
  name: 'ボイスワープ',
  // The guides give the service no one-line description; this is the service as subscribers know it.
  description: 'かかってきた電話を、あらかじめ指定した電話番号へ転送します。',
  path: '/voice-warp',
  menu: [
    { label: '開始／停止設定', path: '/start', description: 'サービスの開始または停止、および転送条件の設定を行います。' },
    { label: '転送先電話番号設定', path: '/destination', description: '転送先の電話番号を設定します。' },
    { label: 'セレクト機能開始／停止設定', path: '/select', description: 'セレクト機能の開始または停止の設定を行います。' },
    { label: 'セレクト機能リスト設定', path: '/select-list', description: 'セレクト機能の設定を行う電話番号の追加、削除を行います。' },
  ],
  status: async (ctx, number) => statusOf(await readVoiceWarpSettings(ctx.deps.pool, number, ctx.deps.config.voiceWarp.ringSecondsDefault)),
  register,
};

/** サービスメニュー's 現在の状態: 停止, or 開始 with the 転送条件. */
export function statusOf(s: StoredVoiceWarp): string {
  return s.started ? `開始（${CONDITION_NAMES[s.condition]}）` : '停止';
}

/** One form of the service: how it is drawn from what is saved, redrawn from what was typed, and the change it posts. */
interface WarpForm {
  view: string;
  title: string;
  /** The form's values as saved; `page` is the list page asked for (GET ?page, POST page). */
  draw(s: StoredVoiceWarp, page: unknown): Record<string, unknown>;
  /** What was typed, kept on a refusal (drawn over what is saved). */
  redraw(b: Body): Record<string, unknown>;
  /** The part the posted form changes, from what is saved now (FormError: refused before the store is asked). */
  change(b: Body, s: StoredVoiceWarp): VoiceWarpChange;
  /** The field of this page a refusal of the store's field stands at (list<n> on the list page). */
  fieldOf?(field: string, b: Body): string;
  /** The notice of a save, and the list page to show after it. */
  done?(b: Body): { notice: string; page?: unknown };
}

function register(app: FastifyInstance, ctx: ServiceContext) {
  const { deps } = ctx;
  const limits = deps.config.voiceWarp;
  const read = (number: string) => readVoiceWarpSettings(deps.pool, number, limits.ringSecondsDefault);

  const form = (f: WarpForm) => {
    const show = (req: FastifyRequest, reply: FastifyReply, data: Record<string, unknown>, status = 200) =>
      ctx.render(req, reply, `voice-warp/${f.view}`, { ...ctx.pageData(req), title: f.title, ...data }, status);

    app.get(`/${f.view}`, async (req, reply) => {
      const s = await read(ctx.numberOf(req));
      return show(req, reply, { version: s.version, errors: {}, ...f.draw(s, (req.query as { page?: unknown }).page) });
    });

    app.post(`/${f.view}`, async (req, reply) => {
      const number = ctx.numberOf(req);
      const b = body(req);
      const version = Number(b.version);
      try {
        if (!Number.isSafeInteger(version) || version < 0) throw new StaleFormError('no version');
        const change = f.change(b, await read(number));
        const s = await saveVoiceWarpChange(deps.pool, number, change, { actor: req.login.account.number, source: req.ip, at: deps.clock.now() }, limits, version);
        const done = f.done?.(b) ?? { notice: MSG.saved };
        return show(req, reply, { version: s.version, errors: {}, notice: done.notice, ...f.draw(s, done.page ?? b.page) });
      } catch (err) {
        if (err instanceof FormError || err instanceof VoiceWarpRefusedError) {
          // The typed values are kept and the version stays the one the form was drawn from.
          const errors: Errors = {};
          for (const [field, message] of Object.entries(err.errors)) errors[f.fieldOf?.(field, b) ?? field] ??= message;
          return show(req, reply, { version, errors, ...f.draw(await read(number), b.page), ...f.redraw(b) }, 400);
        }
        if (err instanceof StaleFormError) {
          // Drawn from what is saved now, so submitting it again works.
          const s = await read(number);
          return show(req, reply, { version: s.version, errors: { form: MSG.stale }, ...f.draw(s, b.page) }, 409);
        }
        throw err;
      }
    });
  };

  // 開始／停止設定: 開始 needs a 転送先 (the domain's rule); 呼出秒数 5–60.
  form({
    view: 'start',
    title: '開始／停止設定',
    draw: (s) => ({
      destination: s.destination,
      values: { started: s.started, condition: s.condition, ringSeconds: String(s.ringSeconds), guidance: s.guidance },
      ...startChoices,
    }),
    redraw: (b) => ({ values: { started: b.started === 'on', condition: text(b, 'condition'), ringSeconds: text(b, 'ringSeconds'), guidance: b.guidance === 'on' } }),
    change: (b) => ({
      part: 'start',
      started: b.started === 'on',
      condition: text(b, 'condition') as ForwardCondition,
      ringSeconds: postedSeconds(text(b, 'ringSeconds')),
      guidance: b.guidance === 'on',
    }),
  });

  // 転送先電話番号設定: one number; 削除 (while stopped) removes it.
  form({
    view: 'destination',
    title: '転送先電話番号設定',
    draw: (s) => ({ value: s.destination ?? '', saved: s.destination, started: s.started }),
    redraw: (b) => ({ value: text(b, 'destination') }),
    change: (b) => {
      if (b.remove !== undefined) return { part: 'destination', destination: null };
      const destination = text(b, 'destination');
      if (!normaliseDialled(destination)) throw new FormError({ destination: DESTINATION_MESSAGES.required });
      return { part: 'destination', destination };
    },
    done: (b) => ({ notice: b.remove !== undefined ? VOICE_WARP_MSG.removed : MSG.saved }),
  });

  // セレクト機能開始／停止設定: 開始 needs a number on the list.
  form({
    view: 'select',
    title: 'セレクト機能開始／停止設定',
    draw: (s) => ({ values: { started: s.select.started, mode: s.select.mode }, listed: s.select.list.length, ...selectChoices }),
    redraw: (b) => ({ values: { started: b.started === 'on', mode: text(b, 'mode') } }),
    change: (b) => ({ part: 'select', started: b.started === 'on', mode: text(b, 'mode') as SelectMode }),
  });

  // セレクト機能リスト設定: 追加 adds the typed number at the end; 削除 (one per row) removes one.
  form({
    view: 'select-list',
    title: 'セレクト機能リスト設定',
    draw: (s, page) => {
      const list = s.select.list;
      const paged = pageOf(list, page === LAST_PAGE ? Math.ceil(list.length / NUMBERS_PER_PAGE) : page);
      return { paged, total: list.length, max: limits.selectListMax, started: s.select.started, value: '' };
    },
    redraw: (b) => ({ value: b.remove === undefined ? text(b, 'number') : '' }),
    change: (b, s) => {
      const list = s.select.list;
      if (b.remove === undefined) return { part: 'select_list', list: [...list, text(b, 'number')] };
      if (!list.includes(String(b.remove))) throw new FormError({ form: VOICE_WARP_MSG.notListed });
      return { part: 'select_list', list: list.filter((n) => n !== b.remove) };
    },
    // An addition's refusal (format, duplicate, the maximum) stands at the field it was typed in;
    // a removal's (the list emptied while セレクト is started) above the list.
    fieldOf: (field, b) => (field.startsWith('list') ? (b.remove === undefined ? 'number' : 'form') : field),
    done: (b) =>
      b.remove === undefined
        ? { notice: VOICE_WARP_MSG.added(normaliseDialled(text(b, 'number'))), page: LAST_PAGE }
        : { notice: VOICE_WARP_MSG.listRemoved(String(b.remove)) },
  });
}

/** After an addition: the page the new number is on. */
const LAST_PAGE = Symbol('last page');

/** 転送条件 as the page offers them, each with what it does. */
const startChoices = {
  conditions: FORWARD_CONDITIONS.map((value) => ({ value, label: CONDITION_NAMES[value] })),
  conditionHints: {
    unconditional: '電話機を呼び出さずに、すべての着信を転送します。',
    busy: '話し中のときに転送します。',
    no_answer: '呼出秒数の間に応答がないときに転送します。',
    busy_no_answer: '話し中のとき、または呼出秒数の間に応答がないときに転送します。',
  } satisfies Record<ForwardCondition, string>,
  ringSecondsRange: RING_SECONDS,
};
const selectChoices = {
  modes: SELECT_MODES.map((value) => ({ value, label: SELECT_MODE_NAMES[value] })),
  modeHints: {
    forward_listed: 'セレクト機能リストに登録した電話番号からの着信だけを転送します。',
    ring_listed: 'セレクト機能リストに登録した電話番号からの着信は転送せずに呼び出し、それ以外の着信を転送します。',
  } satisfies Record<SelectMode, string>,
};

/** 呼出秒数 as typed (full-width digits forgiven); anything else is NaN, which the domain refuses. */
function postedSeconds(typed: string): number {
  const digits = normaliseDialled(typed);
  return /^\d{1,3}$/.test(digits) ? Number(digits) : Number.NaN;
}

// ボイスワープ (call forwarding): the settings of one number and the rules they obey. The site,
// the phone menu, provisioning and the call path all take their rules from here.

/** 転送条件: 無条件転送, 話中時転送, 無応答時転送, 話中・無応答時転送. */
export const FORWARD_CONDITIONS = ['unconditional', 'busy', 'no_answer', 'busy_no_answer'] as const;
export type ForwardCondition = (typeof FORWARD_CONDITIONS)[number];

export const CONDITION_NAMES: Record<ForwardCondition, string> = {
  unconditional: '無条件転送',
  busy: '話中時転送',
  no_answer: '無応答時転送',
  busy_no_answer: '話中・無応答時転送',
};

/**
 * セレクト機能: 登録番号転送 — only listed callers are forwarded; 登録番号着信 — listed callers
 * ring here and everyone else is forwarded.
 */
export const SELECT_MODES = ['forward_listed', 'ring_listed'] as const;
export type SelectMode = (typeof SELECT_MODES)[number];

export const SELECT_MODE_NAMES: Record<SelectMode, string> = {
  forward_listed: '登録番号転送',
  ring_listed: '登録番号着信',
};

/** 呼出秒数: how long the line rings before a no-answer forward. */
export const RING_SECONDS = { min: 5, max: 60 } as const;
/** 呼出秒数 of a number that has not set its own: the default of voiceWarp.ringSecondsDefault. */
export const DEFAULT_RING_SECONDS = 20;

/**
 * セレクト機能リスト: the guides give no maximum. 30, as the 着信お知らせメール お知らせ対象電話番号
 * list, is the default of voiceWarp.selectListMax.
 */
export const DEFAULT_SELECT_LIST_MAX = 30;

export interface VoiceWarpSettings {
  started: boolean;
  condition: ForwardCondition;
  /** 転送先電話番号 (national digits); null until registered. */
  destination: string | null;
  /** 呼出秒数. */
  ringSeconds: number;
  /** 転送ガイダンス: the caller hears 「この電話は転送されます。…」 before the forward. */
  guidance: boolean;
  select: { started: boolean; mode: SelectMode; list: string[] };
}

/** A number with the service and nothing set yet. */
export function defaultVoiceWarpSettings(ringSeconds: number): VoiceWarpSettings {
  return { started: false, condition: 'unconditional', destination: null, ringSeconds, guidance: false, select: { started: false, mode: 'forward_listed', list: [] } };
}

export function isForwardCondition(x: unknown): x is ForwardCondition {
  return typeof x === 'string' && (FORWARD_CONDITIONS as readonly string[]).includes(x);
}

/** The condition forwards when the line is busy (486/600). */
export function forwardsOnBusy(c: ForwardCondition): boolean {
  return c === 'busy' || c === 'busy_no_answer';
}

/** The condition forwards when the line rings 呼出秒数 unanswered. */
export function forwardsOnNoAnswer(c: ForwardCondition): boolean {
  return c === 'no_answer' || c === 'busy_no_answer';
}

/** Why a 転送先 is refused; each names one rule of 転送先電話番号 and has its message. */
export type DestinationRefusal =
  | 'required'
  | 'own_number'
  | 'short_number'
  | 'hash_number'
  | 'free_dial'
  | 'navi_dial'
  | 'dial_q2'
  | 'dengon_dial'
  | 'teledome'
  | 'international'
  | 'carrier_prefix'
  | 'format';

export const DESTINATION_MESSAGES: Record<DestinationRefusal, string> = {
  required: '転送先電話番号を入力してください。',
  own_number: 'お客さまご自身の電話番号は転送先に設定できません。',
  short_number: '3桁の特番（110、119、104など）は転送先に設定できません。',
  hash_number: '＃ダイヤル（＃で始まる番号）は転送先に設定できません。',
  free_dial: 'フリーダイヤル（0120、0800）は転送先に設定できません。',
  navi_dial: 'ナビダイヤル（0570）は転送先に設定できません。',
  dial_q2: 'ダイヤルQ2（0990）は転送先に設定できません。',
  dengon_dial: '伝言ダイヤル（0170）は転送先に設定できません。',
  teledome: 'テレドーム（0180）は転送先に設定できません。',
  international: '国際電話番号（010で始まる番号）は転送先に設定できません。',
  carrier_prefix: '事業者識別番号（001、0033、0041、0070、0077、0081、0086、0088など）を付けた番号は転送先に設定できません。',
  format: '転送先電話番号は市外局番から半角数字10桁または11桁で入力してください。',
};

/** Service-number prefixes a call cannot be forwarded to (the callee would pay, or the number reaches no one). */
const SERVICE_PREFIXES: [prefix: string, refusal: DestinationRefusal][] = [
  ['0120', 'free_dial'],
  ['0800', 'free_dial'],
  ['0570', 'navi_dial'],
  ['0990', 'dial_q2'],
  ['0170', 'dengon_dial'],
  ['0180', 'teledome'],
];

/** Digits as typed on a form or a keypad: hyphens, spaces and full-width digits are forgiven. */
export function normaliseDialled(raw: string): string {
  return raw
    .replace(/[０-９＃＊]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[-\s‐－ー()（）]/g, '');
}

/**
 * The rule a 転送先 breaks, or undefined when it may be registered for `ownNumber`. Order: what
 * the number is (a special or service number) before whether it is well formed, so the message
 * says why 110 or 0120… cannot be used rather than that it has the wrong length.
 */
export function destinationRefusal(destination: string, ownNumber: string): DestinationRefusal | undefined {
  const d = normaliseDialled(destination);
  if (d === '') return 'required';
  if (/[#＃*]/.test(d)) return 'hash_number';
  if (/^\d+$/.test(d) && !d.startsWith('0') && d.length <= 4) return 'short_number';
  // 010: 国際電話; 00XY: 事業者識別番号 (001, 0033, 0041, 0070, 0077, 0081, 0086, 0088…), never a domestic line.
  if (d.startsWith('010')) return 'international';
  if (d.startsWith('00')) return 'carrier_prefix';
  for (const [prefix, refusal] of SERVICE_PREFIXES) if (d.startsWith(prefix)) return refusal;
  if (!/^0\d{9,10}$/.test(d)) return 'format';
  if (d === ownNumber) return 'own_number';
  return undefined;
}

export function ringSecondsRefusal(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < RING_SECONDS.min || seconds > RING_SECONDS.max) {
    return `呼出秒数は${RING_SECONDS.min}秒から${RING_SECONDS.max}秒の間で指定してください。`;
  }
  return undefined;
}

/** 開始 needs a 転送先 (as 着信お知らせメール needs a 送信先). */
export function startRefusal(s: Pick<VoiceWarpSettings, 'started' | 'destination'>): string | undefined {
  return s.started && !s.destination ? '転送先電話番号を設定してから開始してください。' : undefined;
}

export type SelectListRefusal = 'too_many' | 'duplicate' | 'format';

/** The セレクト機能 list: national numbers, each once, at most `max`. Returns the first problem with its index. */
export function selectListRefusal(list: readonly string[], max: number): { index: number; refusal: SelectListRefusal; message: string } | undefined {
  if (list.length > max) return { index: max, refusal: 'too_many', message: `セレクト機能の電話番号は${max}件まで登録できます。` };
  const seen = new Set<string>();
  for (const [index, n] of list.entries()) {
    if (!/^0\d{9,10}$/.test(n)) return { index, refusal: 'format', message: '電話番号は市外局番から半角数字10桁または11桁で入力してください。' };
    if (seen.has(n)) return { index, refusal: 'duplicate', message: 'この電話番号はすでに登録されています。' };
    seen.add(n);
  }
  return undefined;
}

/**
 * Whether セレクト機能 lets this caller's call be forwarded. A caller without a number (非通知,
 * 公衆, 表示圏外) is never on the list: under 登録番号転送 it rings here, under 登録番号着信 it is forwarded.
 */
export function selectAllowsForward(select: Pick<VoiceWarpSettings['select'], 'started' | 'mode'>, callerListed: boolean): boolean {
  if (!select.started) return true;
  return select.mode === 'forward_listed' ? callerListed : !callerListed;
}

/**
 * One form's worth of change (the site's four settings pages; the phone menu and provisioning use
 * the same parts): 開始／停止設定, 転送先電話番号設定, セレクト機能開始／停止設定, セレクト機能リスト設定.
 */
export type VoiceWarpChange =
  | { part: 'start'; started: boolean; condition: ForwardCondition; ringSeconds: number; guidance: boolean }
  | { part: 'destination'; destination: string | null }
  | { part: 'select'; started: boolean; mode: SelectMode }
  | { part: 'select_list'; list: string[] };

/** Refusals by field: condition, ringSeconds, started, destination, mode, select, list<n> (1-based). */
export type VoiceWarpErrors = Record<string, string>;

/**
 * The settings after `change`, or the refusals by field. Every writer (site, phone menu,
 * provisioning) goes through here, so a rule holds whichever way a setting is made.
 */
export function applyVoiceWarpChange(
  current: VoiceWarpSettings,
  change: VoiceWarpChange,
  ownNumber: string,
  limits: { selectListMax: number },
): { settings: VoiceWarpSettings } | { errors: VoiceWarpErrors } {
  const errors: VoiceWarpErrors = {};
  const next: VoiceWarpSettings = { ...current, select: { ...current.select, list: [...current.select.list] } };
  if (change.part === 'start') {
    if (!isForwardCondition(change.condition)) errors.condition = '転送条件を選択してください。';
    const ring = ringSecondsRefusal(change.ringSeconds);
    if (ring) errors.ringSeconds = ring;
    Object.assign(next, { started: change.started, condition: change.condition, ringSeconds: change.ringSeconds, guidance: change.guidance });
    const start = startRefusal(next);
    if (start) errors.started = start;
  } else if (change.part === 'destination') {
    if (change.destination === null || normaliseDialled(change.destination) === '') {
      if (current.started) errors.destination = '開始中は転送先電話番号を削除できません。停止してから削除してください。';
      next.destination = null;
    } else {
      const refusal = destinationRefusal(change.destination, ownNumber);
      if (refusal) errors.destination = DESTINATION_MESSAGES[refusal];
      next.destination = normaliseDialled(change.destination);
    }
  } else if (change.part === 'select') {
    if (!(SELECT_MODES as readonly string[]).includes(change.mode)) errors.mode = 'セレクト機能の種類を選択してください。';
    next.select.started = change.started;
    next.select.mode = change.mode;
    if (change.started && next.select.list.length === 0) errors.select = 'セレクト機能リストに電話番号を登録してから開始してください。';
  } else {
    const list = change.list.map(normaliseDialled);
    const problem = selectListRefusal(list, limits.selectListMax);
    if (problem) errors[`list${Math.min(problem.index, limits.selectListMax - 1) + 1}`] = problem.message;
    if (current.select.started && list.length === 0) errors.list1 = 'セレクト機能の開始中はリストを空にできません。停止してから削除してください。';
    next.select.list = list;
  }
  return Object.keys(errors).length ? { errors } : { settings: next };
}

// ボイスワープ by phone: the subscriber calls the access number from the line itself and sets the
// service with the keypad. 1 開始 (then the 転送条件 1–4), 0 停止, 2 転送先登録 (number and #,
// read back, 1 to confirm), 3 呼出秒数 (5–60 and #), 8 現在の設定 (read back, then the menu again).
// Every question allows ivr.maxAttempts entries; a refused 転送先 is told why and counts as one.
// Pure: the glue provides ask, say and save (src/ivr/voice-warp-menu.ts). See docs/ivr-flows.md.
import { assign, fromPromise, setup } from 'xstate';
import type { CollectOptions, PromptItem } from '../src/media/port.ts';
import {
  FORWARD_CONDITIONS,
  RING_SECONDS,
  destinationRefusal,
  type DestinationRefusal,
  type ForwardCondition,
  type VoiceWarpChange,
  type VoiceWarpSettings,
} from '../src/domain/voice-warp.ts';
import {
  entered,
  failure,
  isHangup,
  oneKey,
  phoneNumberHash,
  question,
  unprovidedAsk,
  unprovidedSay,
  type AskInput,
  type FlowOptions,
  type SayInput,
} from './temp-password-common.ts';

export interface VoiceWarpFlowInput {
  /** The caller's own number (the caller check proved it): the number whose ボイスワープ is set. */
  number: string;
  /** Its settings as saved when the call came in. */
  settings: VoiceWarpSettings;
  options: FlowOptions;
}

export interface SaveInput {
  number: string;
  change: VoiceWarpChange;
}

export type VoiceWarpStep = 'menu' | 'condition' | 'destination' | 'confirm_destination' | 'ring_seconds' | 'save';

export interface VoiceWarpOutcome {
  outcome: 'completed' | 'failed_3_strikes' | 'store_failed' | 'caller_hung_up';
  /** What was saved. */
  action?: 'start' | 'stop' | 'destination' | 'ring_seconds';
  failedStep?: VoiceWarpStep;
}

export const unprovidedSave = fromPromise<VoiceWarpSettings, SaveInput>(async () => {
  throw new Error('save actor not provided: run the flow with machine.provide({ actors: { save } })');
});

interface Context extends VoiceWarpFlowInput {
  attempts: number;
  flushNext: boolean;
  /** The notice before a retried question: a_invalid, or why the 転送先 was refused. */
  retryPrompt: string;
  /** The 転送先 entered and awaiting confirmation. */
  entered: string | null;
  change: VoiceWarpChange | null;
  action: VoiceWarpOutcome['action'] | null;
  outcome: VoiceWarpOutcome['outcome'] | null;
  failedStep: VoiceWarpStep | null;
}

type Digits = { digits: string };
type Args = { context: Context };

const CONDITION_PROMPTS: Record<ForwardCondition, string> = {
  unconditional: 'vw_cond_unconditional',
  busy: 'vw_cond_busy',
  no_answer: 'vw_cond_no_answer',
  busy_no_answer: 'vw_cond_busy_no_answer',
};

/** What the caller hears when a 転送先 is refused, by rule; undefined: the plain invalid-entry notice. */
const REFUSAL_PROMPTS: Partial<Record<DestinationRefusal, string>> = {
  own_number: 'vw_refused_own',
  short_number: 'vw_refused_special',
  hash_number: 'vw_refused_special',
  free_dial: 'vw_refused_special',
  navi_dial: 'vw_refused_special',
  dial_q2: 'vw_refused_special',
  dengon_dial: 'vw_refused_special',
  teledome: 'vw_refused_special',
  international: 'vw_refused_international',
  carrier_prefix: 'vw_refused_international',
};

const INVALID = 'a_invalid';

/** 呼出秒数 as keyed: two digits at most, then #. */
function secondsHash(o: FlowOptions): CollectOptions {
  return { max: 3, terminators: ['#'], firstDigitTimeoutMs: o.firstDigitTimeoutMs, interDigitTimeoutMs: o.interDigitTimeoutMs };
}

/** The condition a key of the 転送条件 menu picks (1–4). */
function conditionOf(digits: string): ForwardCondition | undefined {
  return /^[1-4]$/.test(digits) ? FORWARD_CONDITIONS[Number(digits) - 1] : undefined;
}

function secondsOf(digits: string): number | undefined {
  const n = /^\d{1,2}$/.test(digits) ? Number(digits) : NaN;
  return n >= RING_SECONDS.min && n <= RING_SECONDS.max ? n : undefined;
}

/** 現在の設定: started or not, the condition, the 転送先 and the 呼出秒数. */
function statusPrompts(s: VoiceWarpSettings): PromptItem[] {
  return [
    { prompt: 'vw_status_intro' },
    { prompt: s.started ? 'vw_status_started' : 'vw_status_stopped' },
    { prompt: 'vw_status_condition' }, { prompt: CONDITION_PROMPTS[s.condition] }, { prompt: 'vw_desu' },
    ...(s.destination
      ? [{ prompt: 'vw_status_destination' }, { digits: s.destination }, { prompt: 'vw_ban_desu' }]
      : [{ prompt: 'vw_status_no_destination' }]),
    { prompt: 'vw_status_ring_seconds' }, { digits: String(s.ringSeconds) }, { prompt: 'vw_byou_desu' },
  ];
}

/** What the caller hears once a change is saved. */
function savedPrompts(c: Context): PromptItem[] {
  const s = c.settings;
  if (c.action === 'start') return [{ prompt: CONDITION_PROMPTS[s.condition] }, { prompt: 'vw_started_after_condition' }];
  if (c.action === 'stop') return [{ prompt: 'vw_stopped' }];
  if (c.action === 'destination') return [{ digits: s.destination ?? '' }, { prompt: 'vw_destination_set_after_number' }];
  return [{ digits: String(s.ringSeconds) }, { prompt: 'vw_ring_seconds_set_after_number' }];
}

/** The start/stop part with everything but what the caller changed kept as saved. */
function startPart(s: VoiceWarpSettings, over: Partial<Pick<VoiceWarpSettings, 'started' | 'condition' | 'ringSeconds'>>): VoiceWarpChange {
  return { part: 'start', started: s.started, condition: s.condition, ringSeconds: s.ringSeconds, guidance: s.guidance, ...over };
}

/** One question: ask (after the retry notice), take the first accepted entry, else retry up to maxAttempts, then three strikes. */
function ask<const Accepted extends readonly object[]>(self: string, step: VoiceWarpStep, prompts: (c: Context) => PromptItem[], collect: (o: FlowOptions) => CollectOptions, accepted: Accepted, refused: readonly object[] = []) {
  return {
    invoke: {
      src: 'ask',
      input: ({ context }: Args): AskInput => question(context.retryPrompt, context.attempts, context.flushNext, prompts(context), collect(context.options)),
      onDone: [
        ...accepted,
        ...refused,
        { guard: 'mayRetry', reenter: true, actions: 'countFailure', target: self },
        { target: 'threeStrikes', actions: { type: 'markFailed', params: { step } } },
      ],
      onError: { guard: { type: 'hungUp', params: failure }, target: 'hungUp', actions: { type: 'markHungUp', params: { step } } },
    },
  } as const;
}

const key = (k: string) => (_: unknown, { digits }: Digits) => digits === k;

export const voiceWarpFlow = setup({
  types: {} as { context: Context; input: VoiceWarpFlowInput; output: VoiceWarpOutcome },
  actors: { ask: unprovidedAsk, say: unprovidedSay, save: unprovidedSave },
  guards: {
    pressedStart: key('1'),
    pressedStop: key('0'),
    pressedDestination: key('2'),
    pressedRingSeconds: key('3'),
    pressedStatus: key('8'),
    pressedYes: key('1'),
    pressedNo: key('2'),
    /** 1 with a 転送先 registered: 開始 can go on to the 転送条件. */
    pressedStartWithDestination: ({ context }: Args, { digits }: Digits) => digits === '1' && context.settings.destination !== null,
    isCondition: (_: unknown, { digits }: Digits) => conditionOf(digits) !== undefined,
    isDestination: ({ context }: Args, { digits }: Digits) => destinationRefusal(digits, context.number) === undefined,
    /** A number the rules refuse for a reason the caller is told (not a plain mistyped entry), with a retry left. */
    mayRetryRefusedDestination: ({ context }: Args, { digits }: Digits) => {
      const r = destinationRefusal(digits, context.number);
      return r !== undefined && REFUSAL_PROMPTS[r] !== undefined && context.attempts + 1 < context.options.maxAttempts;
    },
    isRingSeconds: (_: unknown, { digits }: Digits) => secondsOf(digits) !== undefined,
    mayRetry: ({ context }: Args) => context.attempts + 1 < context.options.maxAttempts,
    hungUp: (_: unknown, { error }: { error: unknown }) => isHangup(error),
  },
  actions: {
    nextStep: assign({ attempts: 0, flushNext: false, retryPrompt: INVALID }),
    countFailure: assign(({ context }: Args) => ({ attempts: context.attempts + 1, flushNext: true, retryPrompt: INVALID })),
    countRefusal: assign(({ context }: Args, { digits }: Digits) => ({
      attempts: context.attempts + 1,
      flushNext: true,
      retryPrompt: REFUSAL_PROMPTS[destinationRefusal(digits, context.number)!] ?? INVALID,
    })),
    chooseStart: assign(({ context }: Args, { digits }: Digits) => ({ change: startPart(context.settings, { started: true, condition: conditionOf(digits)! }), action: 'start' as const })),
    chooseStop: assign(({ context }: Args) => ({ change: startPart(context.settings, { started: false }), action: 'stop' as const })),
    keepEntered: assign((_: unknown, { digits }: Digits) => ({ entered: digits })),
    chooseDestination: assign(({ context }: Args) => ({ change: { part: 'destination' as const, destination: context.entered }, action: 'destination' as const })),
    chooseRingSeconds: assign(({ context }: Args, { digits }: Digits) => ({ change: startPart(context.settings, { ringSeconds: secondsOf(digits)! }), action: 'ring_seconds' as const })),
    keepSaved: assign((_: unknown, { settings }: { settings: VoiceWarpSettings }) => ({ settings, outcome: 'completed' as const })),
    markFailed: assign((_: unknown, { step }: { step: VoiceWarpStep }) => ({ outcome: 'failed_3_strikes' as const, failedStep: step })),
    markHungUp: assign((_: unknown, { step }: { step: VoiceWarpStep }) => ({ outcome: 'caller_hung_up' as const, failedStep: step })),
    markStoreFailed: assign({ outcome: 'store_failed' as const, failedStep: 'save' as const }),
  },
}).createMachine({
  id: 'voiceWarp',
  context: ({ input }) => ({
    ...input, attempts: 0, flushNext: false, retryPrompt: INVALID, entered: null, change: null, action: null, outcome: null, failedStep: null,
  }),
  initial: 'menu',
  states: {
    menu: ask('menu', 'menu', () => [{ prompt: 'vw_menu' }], oneKey, [
      { guard: { type: 'pressedStartWithDestination', params: entered }, target: 'conditionMenu', actions: 'nextStep' },
      { guard: { type: 'pressedStart', params: entered }, target: 'noDestination', actions: 'nextStep' },
      { guard: { type: 'pressedStop', params: entered }, target: 'saving', actions: ['chooseStop', 'nextStep'] },
      { guard: { type: 'pressedDestination', params: entered }, target: 'enterDestination', actions: 'nextStep' },
      { guard: { type: 'pressedRingSeconds', params: entered }, target: 'enterRingSeconds', actions: 'nextStep' },
      { guard: { type: 'pressedStatus', params: entered }, target: 'status', actions: 'nextStep' },
    ]),
    // 開始 without a 転送先: said why, then the menu again (2 registers one).
    noDestination: {
      invoke: { src: 'say', input: (): SayInput => ({ prompts: [{ prompt: 'vw_no_destination' }] }), onDone: 'menu', onError: 'hungUp' },
    },
    conditionMenu: ask('conditionMenu', 'condition', () => [{ prompt: 'vw_condition_menu' }], oneKey, [
      { guard: { type: 'isCondition', params: entered }, target: 'saving', actions: [{ type: 'chooseStart', params: entered }, 'nextStep'] },
    ]),
    enterDestination: ask(
      'enterDestination', 'destination', () => [{ prompt: 'vw_enter_destination' }], phoneNumberHash,
      [{ guard: { type: 'isDestination', params: entered }, target: 'confirmDestination', actions: [{ type: 'keepEntered', params: entered }, 'nextStep'] }],
      [{ guard: { type: 'mayRetryRefusedDestination', params: entered }, reenter: true, target: 'enterDestination', actions: { type: 'countRefusal', params: entered } }],
    ),
    confirmDestination: ask(
      'confirmDestination', 'confirm_destination', (c) => [{ digits: c.entered ?? '' }, { prompt: 'vw_confirm_destination_after_number' }], oneKey,
      [
        { guard: { type: 'pressedYes', params: entered }, target: 'saving', actions: ['chooseDestination', 'nextStep'] },
        { guard: { type: 'pressedNo', params: entered }, target: 'enterDestination', actions: 'nextStep' },
      ],
    ),
    enterRingSeconds: ask('enterRingSeconds', 'ring_seconds', () => [{ prompt: 'vw_enter_ring_seconds' }], secondsHash, [
      { guard: { type: 'isRingSeconds', params: entered }, target: 'saving', actions: [{ type: 'chooseRingSeconds', params: entered }, 'nextStep'] },
    ]),
    // 現在の設定, then the menu again: the caller may change what was read back.
    status: {
      invoke: { src: 'say', input: ({ context }: Args): SayInput => ({ prompts: statusPrompts(context.settings) }), onDone: 'menu', onError: 'hungUp' },
    },
    saving: {
      invoke: {
        src: 'save',
        input: ({ context }: Args): SaveInput => ({ number: context.number, change: context.change! }),
        onDone: { target: 'announcingSaved', actions: { type: 'keepSaved', params: ({ event }) => ({ settings: event.output }) } },
        onError: { target: 'storeFailed', actions: 'markStoreFailed' },
      },
    },
    announcingSaved: {
      invoke: {
        src: 'say',
        input: ({ context }: Args): SayInput => ({ prompts: savedPrompts(context) }),
        // Saved is saved: a hang-up during the confirmation does not change the outcome.
        onDone: 'completed',
        onError: 'completed',
      },
    },
    threeStrikes: {
      invoke: { src: 'say', input: (): SayInput => ({ prompts: [{ prompt: 'a_three_strikes' }] }), onDone: 'failed', onError: 'failed' },
    },
    storeFailed: {
      invoke: { src: 'say', input: (): SayInput => ({ prompts: [{ prompt: 'vw_unavailable' }] }), onDone: 'notSaved', onError: 'notSaved' },
    },
    completed: { type: 'final' },
    failed: { type: 'final' },
    notSaved: { type: 'final' },
    hungUp: { type: 'final' },
  },
  output: ({ context }) => ({
    outcome: context.outcome ?? 'caller_hung_up',
    ...(context.action && context.outcome === 'completed' ? { action: context.action } : {}),
    ...(context.failedStep ? { failedStep: context.failedStep } : {}),
  }),
});

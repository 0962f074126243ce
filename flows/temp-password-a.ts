// 仮パスワード設定 pattern A (ひかり電話設定サイト): choose the 認証単位, name the number,
// enter the 8-digit temp password twice, store it. See docs/ivr-flows.md.
import { assign, setup } from 'xstate';
import {
  type AuthUnit,
  type Contract,
  type FlowOptions,
  type FlowOutcome,
  type FlowStep,
  MAIL_SERVICES,
  entered,
  failure,
  isHangup,
  eightDigitsHash,
  isEightDigits,
  mainNumberOf,
  numberWithService,
  oneKey,
  phoneNumberHash,
  question,
  unprovidedAsk,
  unprovidedSay,
  unprovidedStore,
} from './temp-password-common.ts';

export interface TempPasswordAInput {
  /** The verified caller: one of the contract's numbers. */
  caller: { number: string; role: 'main' | 'additional' };
  contract: Contract;
  options: FlowOptions;
}

interface AContext extends TempPasswordAInput {
  /** Failed entries in the current step. */
  attempts: number;
  flushNext: boolean;
  unit: AuthUnit | null;
  target: string | null;
  /** The first password entry; held only until stored or abandoned. */
  password: string | null;
  outcome: FlowOutcome['outcome'] | null;
  failedStep: FlowStep | null;
}

type Digits = { digits: string };

const retry = { guard: 'mayRetry', reenter: true, actions: 'countFailure' } as const;
const strikeOut = (step: FlowStep) => ({ target: 'threeStrikes', actions: { type: 'markFailed', params: { step } } }) as const;
// Only a hang-up ends a question quietly; any other failure leaves the error unhandled so the actor errors.
const hungUp = (step: FlowStep) =>
  ({ guard: { type: 'hungUp', params: failure }, target: 'hungUp', actions: { type: 'markHungUp', params: { step } } }) as const;

export const tempPasswordA = setup({
  types: {} as { context: AContext; input: TempPasswordAInput; output: FlowOutcome },
  actors: { ask: unprovidedAsk, say: unprovidedSay, store: unprovidedStore },
  guards: {
    // 1: 回線単位, always for the contract's main number.
    choseLine: ({ context }, { digits }: Digits) => digits === '1' && mainNumberOf(context.contract) !== undefined,
    // 2: 電話番号単位, the caller names the number.
    choseNumberUnit: (_, { digits }: Digits) => digits === '2',
    // 3: 管理者／ユーザ単位: the main number (管理者) names any number; an additional number (ユーザ) sets its own.
    choseAdminAsMain: ({ context }, { digits }: Digits) => digits === '3' && context.caller.role === 'main',
    choseAdminAsAdditional: ({ context }, { digits }: Digits) => digits === '3' && context.caller.role === 'additional',
    isSettingsSiteNumber: ({ context }, { digits }: Digits) => numberWithService(context.contract, digits, MAIL_SERVICES) !== undefined,
    isPassword: (_, { digits }: Digits) => isEightDigits(digits),
    matchesPassword: ({ context }, { digits }: Digits) => context.password !== null && digits === context.password,
    hungUp: (_, { error }: { error: unknown }) => isHangup(error),
    mayRetry: ({ context }) => context.attempts + 1 < context.options.maxAttempts,
  },
  actions: {
    chooseUnit: assign((_, { unit }: { unit: AuthUnit }) => ({ unit })),
    targetMainNumber: assign(({ context }) => ({ unit: 'line' as const, target: mainNumberOf(context.contract) ?? null })),
    targetCallerAsUser: assign(({ context }) => ({ unit: 'admin_user' as const, target: context.caller.number })),
    targetEntered: assign((_, { digits }: Digits) => ({ target: digits })),
    keepPassword: assign((_, { digits }: Digits) => ({ password: digits })),
    forgetPassword: assign({ password: null }),
    nextStep: assign({ attempts: 0, flushNext: false }),
    countFailure: assign(({ context }) => ({ attempts: context.attempts + 1, flushNext: true })),
    markFailed: assign((_, { step }: { step: FlowStep }) => ({ outcome: 'failed_3_strikes' as const, failedStep: step, password: null })),
    markHungUp: assign((_, { step }: { step: FlowStep }) => ({ outcome: 'caller_hung_up' as const, failedStep: step, password: null })),
    markStored: assign({ outcome: 'completed' as const, password: null }),
    markStoreFailed: assign({ outcome: 'store_failed' as const, failedStep: 'store' as const, password: null }),
  },
}).createMachine({
  id: 'tempPasswordA',
  context: ({ input }) => ({
    ...input,
    attempts: 0,
    flushNext: false,
    unit: null,
    target: null,
    password: null,
    outcome: null,
    failedStep: null,
  }),
  initial: 'unitMenu',
  states: {
    unitMenu: {
      invoke: {
        src: 'ask',
        input: ({ context }) =>
          question('a_invalid', context.attempts, context.flushNext, [{ prompt: 'a_unit_menu' }], oneKey(context.options)),
        onDone: [
          { guard: { type: 'choseLine', params: entered }, target: 'enterPassword', actions: ['targetMainNumber', 'nextStep'] },
          {
            guard: { type: 'choseNumberUnit', params: entered },
            target: 'enterNumber',
            actions: [{ type: 'chooseUnit', params: { unit: 'number' } }, 'nextStep'],
          },
          {
            guard: { type: 'choseAdminAsMain', params: entered },
            target: 'enterNumber',
            actions: [{ type: 'chooseUnit', params: { unit: 'admin_user' } }, 'nextStep'],
          },
          { guard: { type: 'choseAdminAsAdditional', params: entered }, target: 'enterPassword', actions: ['targetCallerAsUser', 'nextStep'] },
          { ...retry, target: 'unitMenu' },
          strikeOut('unit_menu'),
        ],
        onError: hungUp('unit_menu'),
      },
    },
    enterNumber: {
      invoke: {
        src: 'ask',
        input: ({ context }) =>
          question('a_invalid', context.attempts, context.flushNext, [{ prompt: 'a_enter_number' }], phoneNumberHash(context.options)),
        onDone: [
          {
            guard: { type: 'isSettingsSiteNumber', params: entered },
            target: 'enterPassword',
            actions: [{ type: 'targetEntered', params: entered }, 'nextStep'],
          },
          { ...retry, target: 'enterNumber' },
          strikeOut('enter_number'),
        ],
        onError: hungUp('enter_number'),
      },
    },
    enterPassword: {
      invoke: {
        src: 'ask',
        input: ({ context }) =>
          question(
            'a_invalid',
            context.attempts,
            context.flushNext,
            [{ digits: context.target ?? '' }, { prompt: 'a_enter_password_after_number' }],
            eightDigitsHash(context.options),
          ),
        onDone: [
          {
            guard: { type: 'isPassword', params: entered },
            target: 'confirmPassword',
            actions: [{ type: 'keepPassword', params: entered }, 'nextStep'],
          },
          { ...retry, target: 'enterPassword' },
          strikeOut('enter_password'),
        ],
        onError: hungUp('enter_password'),
      },
    },
    // A mismatch re-asks the confirmation only: the first entry stays, as the guide's
    // 「もう一度押してください」 after the confirmation prompt suggests.
    confirmPassword: {
      invoke: {
        src: 'ask',
        input: ({ context }) =>
          question('a_invalid', context.attempts, context.flushNext, [{ prompt: 'a_confirm_password' }], eightDigitsHash(context.options)),
        onDone: [
          { guard: { type: 'matchesPassword', params: entered }, target: 'storing', actions: 'nextStep' },
          { ...retry, target: 'confirmPassword' },
          strikeOut('confirm_password'),
        ],
        onError: hungUp('confirm_password'),
      },
    },
    storing: {
      invoke: {
        src: 'store',
        input: ({ context }) => {
          if (context.target === null || context.password === null || context.unit === null) {
            throw new Error('storing without target, password and unit');
          }
          return { targetNumber: context.target, password: context.password, pattern: 'A' as const, authUnit: context.unit };
        },
        onDone: { target: 'announcingCompletion', actions: 'markStored' },
        onError: { target: 'storeFailed', actions: 'markStoreFailed' },
      },
    },
    announcingCompletion: {
      invoke: {
        src: 'say',
        input: ({ context }) => ({ prompts: [{ digits: context.target ?? '' }, { prompt: 'a_completed_after_number' }] }),
        // Stored is stored: a hang-up during the thank-you does not change the outcome.
        onDone: 'completed',
        onError: 'completed',
      },
    },
    threeStrikes: {
      invoke: {
        src: 'say',
        input: { prompts: [{ prompt: 'a_three_strikes' }] },
        onDone: 'failed',
        onError: 'failed',
      },
    },
    completed: { type: 'final' },
    failed: { type: 'final' },
    // Nothing was stored: say so, so the subscriber knows to call again rather than log in.
    storeFailed: {
      invoke: {
        src: 'say',
        input: { prompts: [{ prompt: 'system_unavailable' }] },
        onDone: 'notStored',
        onError: 'notStored',
      },
    },
    notStored: { type: 'final' },
    hungUp: { type: 'final' },
  },
  output: ({ context }) => outcomeOf(context),
});

function outcomeOf(context: AContext): FlowOutcome {
  const out: FlowOutcome = { outcome: context.outcome ?? 'caller_hung_up' };
  if (context.unit !== null) out.unit = context.unit;
  if (context.target !== null) out.target = context.target;
  if (context.failedStep !== null) out.failedStep = context.failedStep;
  return out;
}

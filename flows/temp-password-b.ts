// 仮パスワード設定 pattern B (サービス設定ホームページ, 072-242-7142): choose the mail service,
// name the contract number, enter the 8-digit temp password (containing the required digit)
// twice, store it. A third invalid entry sends the caller back to the service menu. See docs/ivr-flows.md.
import { assign, setup } from 'xstate';
import {
  type Contract,
  type FlowOptions,
  type FlowOutcome,
  type FlowStep,
  type MailService,
  contractSubscribes,
  eightDigitsHash,
  entered,
  failure,
  isHangup,
  isEightDigits,
  numberWithService,
  oneKeyHash,
  phoneNumberHash,
  question,
  unprovidedAsk,
  unprovidedSay,
  unprovidedStore,
} from './temp-password-common.ts';

export interface TempPasswordBOptions extends FlowOptions {
  /** The digit the password must contain and must not consist of only (ivr.patternBRequiredDigit). */
  requiredDigit: string;
  /** How many times three strikes sends the caller back to the service menu before the call ends. Default 1. */
  maxRestarts?: number;
}

export interface TempPasswordBInput {
  /** The verified caller: a number of the contract, or one of its 認証用番号 (auth). */
  caller: { number: string; role: 'main' | 'additional' | 'auth' };
  contract: Contract;
  options: TempPasswordBOptions;
}

interface BContext extends TempPasswordBInput {
  attempts: number;
  restarts: number;
  flushNext: boolean;
  service: MailService | null;
  target: string | null;
  /** The first password entry; held only until stored or abandoned. */
  password: string | null;
  outcome: FlowOutcome['outcome'] | null;
  failedStep: FlowStep | null;
}

type Digits = { digits: string };

const SERVICE_KEYS: Record<string, MailService> = { '0': 'chakushin_mail', '1': 'fax_mail' };

/** 『d』を含む8桁 (すべて『d』は不可). */
export function isPatternBPassword(digits: string, requiredDigit: string): boolean {
  return isEightDigits(digits) && digits.includes(requiredDigit) && digits !== requiredDigit.repeat(8);
}

const retry = { guard: 'mayRetry', reenter: true, actions: 'countFailure' } as const;
const strikeOut = (step: FlowStep) => ({ target: 'threeStrikes', actions: { type: 'markFailed', params: { step } } }) as const;
// Only a hang-up ends a question quietly; any other failure leaves the error unhandled so the actor errors.
const hungUp = (step: FlowStep) =>
  ({ guard: { type: 'hungUp', params: failure }, target: 'hungUp', actions: { type: 'markHungUp', params: { step } } }) as const;

export const tempPasswordB = setup({
  types: {} as { context: BContext; input: TempPasswordBInput; output: FlowOutcome },
  actors: { ask: unprovidedAsk, say: unprovidedSay, store: unprovidedStore },
  guards: {
    isSubscribedService: ({ context }, { digits }: Digits) => {
      const service = SERVICE_KEYS[digits];
      return service !== undefined && contractSubscribes(context.contract, service);
    },
    isNumberWithService: ({ context }, { digits }: Digits) =>
      context.service !== null && numberWithService(context.contract, digits, [context.service]) !== undefined,
    isPassword: ({ context }, { digits }: Digits) => isPatternBPassword(digits, context.options.requiredDigit),
    matchesPassword: ({ context }, { digits }: Digits) => context.password !== null && digits === context.password,
    hungUp: (_, { error }: { error: unknown }) => isHangup(error),
    mayRetry: ({ context }) => context.attempts + 1 < context.options.maxAttempts,
    mayRestart: ({ context }) => context.restarts < (context.options.maxRestarts ?? 1),
  },
  actions: {
    chooseService: assign((_, { digits }: Digits) => ({ service: SERVICE_KEYS[digits] ?? null })),
    targetEntered: assign((_, { digits }: Digits) => ({ target: digits })),
    keepPassword: assign((_, { digits }: Digits) => ({ password: digits })),
    nextStep: assign({ attempts: 0, flushNext: false }),
    countFailure: assign(({ context }) => ({ attempts: context.attempts + 1, flushNext: true })),
    // はじめからやり直し: fresh counters and nothing kept from the failed round.
    restart: assign(({ context }) => ({
      restarts: context.restarts + 1,
      attempts: 0,
      flushNext: true,
      service: null,
      target: null,
      password: null,
      outcome: null,
      failedStep: null,
    })),
    markFailed: assign((_, { step }: { step: FlowStep }) => ({ outcome: 'failed_3_strikes' as const, failedStep: step, password: null })),
    markHungUp: assign((_, { step }: { step: FlowStep }) => ({ outcome: 'caller_hung_up' as const, failedStep: step, password: null })),
    markStored: assign({ outcome: 'completed' as const, password: null }),
    markStoreFailed: assign({ outcome: 'store_failed' as const, failedStep: 'store' as const, password: null }),
  },
}).createMachine({
  id: 'tempPasswordB',
  context: ({ input }) => ({
    ...input,
    attempts: 0,
    restarts: 0,
    flushNext: false,
    service: null,
    target: null,
    password: null,
    outcome: null,
    failedStep: null,
  }),
  initial: 'serviceMenu',
  states: {
    serviceMenu: {
      invoke: {
        src: 'ask',
        input: ({ context }) =>
          question('b_invalid', context.attempts, context.flushNext, [{ prompt: 'b_service_menu' }], oneKeyHash(context.options)),
        onDone: [
          {
            guard: { type: 'isSubscribedService', params: entered },
            target: 'enterNumber',
            actions: [{ type: 'chooseService', params: entered }, 'nextStep'],
          },
          { ...retry, target: 'serviceMenu' },
          strikeOut('service_menu'),
        ],
        onError: hungUp('service_menu'),
      },
    },
    enterNumber: {
      invoke: {
        src: 'ask',
        input: ({ context }) =>
          question('b_invalid', context.attempts, context.flushNext, [{ prompt: 'b_enter_number' }], phoneNumberHash(context.options)),
        onDone: [
          {
            guard: { type: 'isNumberWithService', params: entered },
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
            'b_invalid',
            context.attempts,
            context.flushNext,
            [
              { prompt: 'b_enter_password_before_digit' },
              { digits: context.options.requiredDigit },
              { prompt: 'b_enter_password_after_digit' },
            ],
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
    confirmPassword: {
      invoke: {
        src: 'ask',
        input: ({ context }) =>
          question('b_invalid', context.attempts, context.flushNext, [{ prompt: 'b_confirm_password' }], eightDigitsHash(context.options)),
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
          if (context.target === null || context.password === null || context.service === null) {
            throw new Error('storing without target, password and service');
          }
          return { targetNumber: context.target, password: context.password, pattern: 'B' as const, service: context.service };
        },
        onDone: { target: 'announcingCompletion', actions: 'markStored' },
        onError: { target: 'storeFailed', actions: 'markStoreFailed' },
      },
    },
    announcingCompletion: {
      invoke: {
        src: 'say',
        input: { prompts: [{ prompt: 'b_completed' }] },
        // Stored is stored: a hang-up during the thank-you does not change the outcome.
        onDone: 'completed',
        onError: 'completed',
      },
    },
    threeStrikes: {
      invoke: {
        src: 'say',
        input: { prompts: [{ prompt: 'b_three_strikes' }] },
        onDone: [{ guard: 'mayRestart', target: 'serviceMenu', actions: 'restart' }, { target: 'failed' }],
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

function outcomeOf(context: BContext): FlowOutcome {
  const out: FlowOutcome = { outcome: context.outcome ?? 'caller_hung_up' };
  if (context.service !== null) out.service = context.service;
  if (context.target !== null) out.target = context.target;
  if (context.failedStep !== null) out.failedStep = context.failedStep;
  return out;
}

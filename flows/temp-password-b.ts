// 仮パスワード設定 pattern B (サービス設定ホームページ, 072-242-7142): choose the mail service,
// name the contract number, enter the 8-digit temp password (containing the required digit)
// twice, store it. A third invalid entry sends the caller back to the service menu. See docs/ivr-flows.md.
import { assign, setup } from 'xstate';
import type { Contract, MailService, NumberRole } from '../src/domain/subscriber.ts';
import {
  type FlowOptions,
  type FlowOutcome,
  contractSubscribes,
  eightDigitsHash,
  entered,
  isEightDigits,
  numberWithService,
  oneKeyHash,
  phoneNumberHash,
  unprovidedAsk,
  unprovidedSay,
  unprovidedStore,
} from './temp-password-common.ts';
import { questionState, tailActions, tailGuards, tailOutcome, tailStates, type TailContext } from './temp-password-tail.ts';

export interface TempPasswordBOptions extends FlowOptions {
  /** The digit the password must contain and must not consist of only (ivr.patternBRequiredDigit). */
  requiredDigit: string;
  /** How many times three strikes sends the caller back to the service menu before the call ends. Default 1. */
  maxRestarts?: number;
}

export interface TempPasswordBInput {
  /** The verified caller: a number of the contract, or one of its 認証用番号 (auth). */
  caller: { number: string; role: NumberRole | 'auth' };
  contract: Contract;
  options: TempPasswordBOptions;
}

interface BContext extends TempPasswordBInput, Omit<TailContext, 'options'> {
  restarts: number;
  service: MailService | null;
}

type Digits = { digits: string };
// Annotated rather than inferred: setup() infers the params of every guard and action at once,
// and the shared tail's implementations are already typed.
type Args = { context: BContext };

const SERVICE_KEYS: Record<string, MailService> = { '0': 'chakushin_mail', '1': 'fax_mail' };

/** 『d』を含む8桁 (すべて『d』は不可). */
export function isPatternBPassword(digits: string, requiredDigit: string): boolean {
  return isEightDigits(digits) && digits.includes(requiredDigit) && digits !== requiredDigit.repeat(8);
}

export const tempPasswordB = setup({
  types: {} as { context: BContext; input: TempPasswordBInput; output: FlowOutcome },
  actors: { ask: unprovidedAsk, say: unprovidedSay, store: unprovidedStore },
  guards: {
    ...tailGuards,
    isSubscribedService: ({ context }: Args, { digits }: Digits) => {
      const service = SERVICE_KEYS[digits];
      return service !== undefined && contractSubscribes(context.contract, service);
    },
    isNumberWithService: ({ context }: Args, { digits }: Digits) =>
      context.service !== null && numberWithService(context.contract, digits, [context.service]) !== undefined,
    isPassword: ({ context }: Args, { digits }: Digits) => isPatternBPassword(digits, context.options.requiredDigit),
    mayRestart: ({ context }: Args) => context.restarts < (context.options.maxRestarts ?? 1),
  },
  actions: {
    ...tailActions<BContext>(),
    chooseService: assign((_: unknown, { digits }: Digits) => ({ service: SERVICE_KEYS[digits] ?? null })),
    // はじめからやり直し: fresh counters and nothing kept from the failed round.
    restart: assign(({ context }: Args) => ({
      restarts: context.restarts + 1,
      attempts: 0,
      flushNext: true,
      service: null,
      target: null,
      password: null,
      outcome: null,
      failedStep: null,
    })),
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
    serviceMenu: questionState({
      self: 'serviceMenu',
      step: 'service_menu',
      invalidPrompt: 'b_invalid',
      prompts: () => [{ prompt: 'b_service_menu' }],
      collect: oneKeyHash,
      accepted: [
        { guard: { type: 'isSubscribedService', params: entered }, target: 'enterNumber', actions: [{ type: 'chooseService', params: entered }, 'nextStep'] },
      ],
    }),
    enterNumber: questionState({
      self: 'enterNumber',
      step: 'enter_number',
      invalidPrompt: 'b_invalid',
      prompts: () => [{ prompt: 'b_enter_number' }],
      collect: phoneNumberHash,
      accepted: [
        { guard: { type: 'isNumberWithService', params: entered }, target: 'enterPassword', actions: [{ type: 'targetEntered', params: entered }, 'nextStep'] },
      ],
    }),
    enterPassword: questionState({
      self: 'enterPassword',
      step: 'enter_password',
      invalidPrompt: 'b_invalid',
      prompts: (context: BContext) => [
        { prompt: 'b_enter_password_before_digit' },
        { digits: context.options.requiredDigit },
        { prompt: 'b_enter_password_after_digit' },
      ],
      collect: eightDigitsHash,
      accepted: [
        { guard: { type: 'isPassword', params: entered }, target: 'confirmPassword', actions: [{ type: 'keepPassword', params: entered }, 'nextStep'] },
      ],
    }),
    ...tailStates({
      invalidPrompt: 'b_invalid',
      confirmPrompt: 'b_confirm_password',
      confirmCollect: eightDigitsHash,
      storeInput: (context: BContext) => {
        if (context.target === null || context.password === null || context.service === null) {
          throw new Error('storing without target, password and service');
        }
        return { targetNumber: context.target, password: context.password, pattern: 'B', service: context.service };
      },
      completionPrompts: () => [{ prompt: 'b_completed' }],
      threeStrikesPrompt: 'b_three_strikes',
      // はじめからやり直してください: back to the service menu, up to maxRestarts times.
      afterThreeStrikes: [{ guard: 'mayRestart', target: 'serviceMenu', actions: 'restart' }, { target: 'failed' }],
    }),
  },
  output: ({ context }) => {
    const out = tailOutcome(context);
    if (context.service !== null) out.service = context.service;
    return out;
  },
});

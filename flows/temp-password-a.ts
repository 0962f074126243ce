// 仮パスワード設定 pattern A (ひかり電話設定サイト): choose the 認証単位, name the number,
// enter the 8-digit temp password twice, store it. See docs/ivr-flows.md.
import { assign, setup } from 'xstate';
import { MAIL_SERVICES, type AuthUnit, type Contract, type NumberRole } from '../src/domain/subscriber.ts';
import {
  type FlowOptions,
  type FlowOutcome,
  eightDigits,
  entered,
  isEightDigits,
  mainNumberOf,
  numberWithService,
  oneKey,
  phoneNumberHash,
  unprovidedAsk,
  unprovidedSay,
  unprovidedStore,
} from './temp-password-common.ts';
import { questionState, tailActions, tailGuards, tailOutcome, tailStates, type TailContext } from './temp-password-tail.ts';

export interface TempPasswordAInput {
  /** The verified caller: one of the contract's numbers. */
  caller: { number: string; role: NumberRole };
  contract: Contract;
  options: FlowOptions;
}

interface AContext extends TempPasswordAInput, TailContext {
  unit: AuthUnit | null;
}

type Digits = { digits: string };
// Annotated rather than inferred: setup() infers the params of every guard and action at once,
// and the shared tail's implementations are already typed.
type Args = { context: AContext };

export const tempPasswordA = setup({
  types: {} as { context: AContext; input: TempPasswordAInput; output: FlowOutcome },
  actors: { ask: unprovidedAsk, say: unprovidedSay, store: unprovidedStore },
  guards: {
    ...tailGuards,
    // 1: 回線単位, always for the contract's main number.
    choseLine: ({ context }: Args, { digits }: Digits) => digits === '1' && mainNumberOf(context.contract) !== undefined,
    // 2: 電話番号単位, the caller names the number.
    choseNumberUnit: (_: unknown, { digits }: Digits) => digits === '2',
    // 3: 管理者／ユーザ単位: the main number (管理者) names any number; an additional number (ユーザ) sets its own.
    choseAdminAsMain: ({ context }: Args, { digits }: Digits) => digits === '3' && context.caller.role === 'main',
    choseAdminAsAdditional: ({ context }: Args, { digits }: Digits) => digits === '3' && context.caller.role === 'additional',
    isSettingsSiteNumber: ({ context }: Args, { digits }: Digits) => numberWithService(context.contract, digits, MAIL_SERVICES) !== undefined,
    isPassword: (_: unknown, { digits }: Digits) => isEightDigits(digits),
  },
  actions: {
    ...tailActions<AContext>(),
    chooseUnit: assign((_: unknown, { unit }: { unit: AuthUnit }) => ({ unit })),
    targetMainNumber: assign(({ context }: Args) => ({ unit: 'line' as const, target: mainNumberOf(context.contract) ?? null })),
    targetCallerAsUser: assign(({ context }: Args) => ({ unit: 'admin_user' as const, target: context.caller.number })),
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
    unitMenu: questionState({
      self: 'unitMenu',
      step: 'unit_menu',
      invalidPrompt: 'a_invalid',
      prompts: () => [{ prompt: 'a_unit_menu' }],
      collect: oneKey,
      accepted: [
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
      ],
    }),
    enterNumber: questionState({
      self: 'enterNumber',
      step: 'enter_number',
      invalidPrompt: 'a_invalid',
      prompts: () => [{ prompt: 'a_enter_number' }],
      collect: phoneNumberHash,
      accepted: [
        { guard: { type: 'isSettingsSiteNumber', params: entered }, target: 'enterPassword', actions: [{ type: 'targetEntered', params: entered }, 'nextStep'] },
      ],
    }),
    enterPassword: questionState({
      self: 'enterPassword',
      step: 'enter_password',
      invalidPrompt: 'a_invalid',
      prompts: (context: AContext) => [{ digits: context.target ?? '' }, { prompt: 'a_enter_password_after_number' }],
      collect: eightDigits,
      accepted: [
        { guard: { type: 'isPassword', params: entered }, target: 'confirmPassword', actions: [{ type: 'keepPassword', params: entered }, 'nextStep'] },
      ],
    }),
    ...tailStates({
      invalidPrompt: 'a_invalid',
      confirmPrompt: 'a_confirm_password',
      confirmCollect: eightDigits,
      storeInput: (context: AContext) => {
        if (context.target === null || context.password === null || context.unit === null) {
          throw new Error('storing without target, password and unit');
        }
        return { targetNumber: context.target, password: context.password, pattern: 'A', authUnit: context.unit };
      },
      completionPrompts: (context: AContext) => [{ digits: context.target ?? '' }, { prompt: 'a_completed_after_number' }],
      threeStrikesPrompt: 'a_three_strikes',
      // Pattern A ends the call with guidance to call again (a_three_strikes).
      afterThreeStrikes: 'failed',
    }),
  },
  output: ({ context }) => {
    const out = tailOutcome(context);
    if (context.unit !== null) out.unit = context.unit;
    return out;
  },
});

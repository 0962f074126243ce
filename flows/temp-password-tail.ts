// What the two 仮パスワード設定 flows share once the caller has entered a valid password:
// confirm it, store it, announce the result, and the ways a call ends early (three
// strikes, a store that failed, a caller who hung up). Each pattern builds these states
// with its own prompts and store input (state factories) and puts tailGuards and
// tailUpdates into its setup(), so the states read the same in both machines.
import type { CollectOptions, PromptItem } from '../src/media/port.ts';
import { entered, failure, isHangup, question, type FlowOptions, type FlowOutcome, type FlowStep, type SayInput, type StoreInput } from './temp-password-common.ts';

/** The context every pattern's machine has (its own adds unit or service, restarts…). */
export interface TailContext {
  options: FlowOptions;
  /** Failed entries in the current step. */
  attempts: number;
  /** Drop buffered keys before the next question (after an invalid entry). */
  flushNext: boolean;
  target: string | null;
  /** The first password entry; held only until stored or abandoned. */
  password: string | null;
  outcome: FlowOutcome['outcome'] | null;
  failedStep: FlowStep | null;
}

type Digits = { digits: string };

export const tailGuards = {
  matchesPassword: ({ context }: { context: TailContext }, { digits }: Digits) => context.password !== null && digits === context.password,
  hungUp: (_: unknown, { error }: { error: unknown }) => isHangup(error),
  mayRetry: ({ context }: { context: TailContext }) => context.attempts + 1 < context.options.maxAttempts,
};

/**
 * What the shared actions do to the context. Each pattern's setup() wraps them in assign()
 * under these names (xstate types an action by its machine, so the wrapping stays there).
 */
export const tailUpdates = {
  targetEntered: (_: unknown, { digits }: Digits) => ({ target: digits }),
  keepPassword: (_: unknown, { digits }: Digits) => ({ password: digits }),
  nextStep: () => ({ attempts: 0, flushNext: false }),
  countFailure: (context: TailContext) => ({ attempts: context.attempts + 1, flushNext: true }),
  markFailed: (_: unknown, { step }: { step: FlowStep }) => ({ outcome: 'failed_3_strikes' as const, failedStep: step, password: null }),
  markHungUp: (_: unknown, { step }: { step: FlowStep }) => ({ outcome: 'caller_hung_up' as const, failedStep: step, password: null }),
  markStored: () => ({ outcome: 'completed' as const, password: null }),
  markStoreFailed: () => ({ outcome: 'store_failed' as const, failedStep: 'store' as const, password: null }),
};

// The transitions every question ends with: try again, three strikes, or the caller is gone.
export const retry = { guard: 'mayRetry', reenter: true, actions: 'countFailure' } as const;
export const strikeOut = (step: FlowStep) => ({ target: 'threeStrikes', actions: { type: 'markFailed', params: { step } } }) as const;
// Only a hang-up ends a question quietly; any other failure leaves the error unhandled so the actor errors.
export const hungUp = (step: FlowStep) =>
  ({ guard: { type: 'hungUp', params: failure }, target: 'hungUp', actions: { type: 'markHungUp', params: { step } } }) as const;

export interface TailSpec<C extends TailContext, AfterStrikes> {
  /** The invalid-entry notice before a retried question (a_invalid / b_invalid). */
  invalidPrompt: string;
  confirmPrompt: string;
  confirmCollect(options: FlowOptions): CollectOptions;
  /** What to store; throws when the context lacks it (a machine bug, not a caller's). */
  storeInput(context: C): StoreInput;
  completionPrompts(context: C): PromptItem[];
  threeStrikesPrompt: string;
  /** Where the third strike leads once its prompt has played (pattern B may start over). */
  afterThreeStrikes: AfterStrikes;
}

export function tailStates<C extends TailContext, const AfterStrikes>(spec: TailSpec<C, AfterStrikes>) {
  return {
    // A mismatch re-asks the confirmation only: the first entry stays, as the guides'
    // 「もう一度押してください」/「もう一度入力してください」 right after the confirmation prompt suggests.
    confirmPassword: {
      invoke: {
        src: 'ask',
        input: ({ context }: { context: C }) =>
          question(spec.invalidPrompt, context.attempts, context.flushNext, [{ prompt: spec.confirmPrompt }], spec.confirmCollect(context.options)),
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
        input: ({ context }: { context: C }) => spec.storeInput(context),
        onDone: { target: 'announcingCompletion', actions: 'markStored' },
        onError: { target: 'storeFailed', actions: 'markStoreFailed' },
      },
    },
    announcingCompletion: {
      invoke: {
        src: 'say',
        input: ({ context }: { context: C }) => ({ prompts: spec.completionPrompts(context) }),
        // Stored is stored: a hang-up during the thank-you does not change the outcome.
        onDone: 'completed',
        onError: 'completed',
      },
    },
    threeStrikes: {
      invoke: {
        src: 'say',
        input: (): SayInput => ({ prompts: [{ prompt: spec.threeStrikesPrompt }] }),
        onDone: spec.afterThreeStrikes,
        onError: 'failed',
      },
    },
    completed: { type: 'final' },
    failed: { type: 'final' },
    // Nothing was stored: say so, so the subscriber knows to call again rather than log in.
    storeFailed: {
      invoke: {
        src: 'say',
        input: (): SayInput => ({ prompts: [{ prompt: 'system_unavailable' }] }),
        onDone: 'notStored',
        onError: 'notStored',
      },
    },
    notStored: { type: 'final' },
    hungUp: { type: 'final' },
  } as const;
}

/** The outcome fields both patterns report (never the password). */
export function tailOutcome(context: TailContext): FlowOutcome {
  const out: FlowOutcome = { outcome: context.outcome ?? 'caller_hung_up' };
  if (context.target !== null) out.target = context.target;
  if (context.failedStep !== null) out.failedStep = context.failedStep;
  return out;
}

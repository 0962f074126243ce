// What the two 仮パスワード設定 flows share: how a question retries, strikes out or ends in a
// hang-up (questionState), and everything once the caller has entered a valid password:
// confirm it, store it, announce the result, and the ways a call ends early (three
// strikes, a store that failed, a caller who hung up). Each pattern builds these states
// with its own prompts and store input (state factories) and puts tailGuards and
// tailActions into its setup(), so the states read the same in both machines.
import { assign, type AnyEventObject, type ParameterizedObject } from 'xstate';
import type { CollectOptions, PromptItem } from '../src/media/port.ts';
import { entered, failure, isHangup, question, type AskInput, type FlowOptions, type FlowOutcome, type FlowStep, type SayInput, type StoreInput } from './temp-password-common.ts';

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
 * The shared actions, typed for one pattern's machine (xstate types an action by its machine's
 * context): setup({ actions: { ...tailActions<AContext>(), … } }).
 */
export function tailActions<C extends TailContext>() {
  // Each update touches only TailContext's fields, so it is an update of any context that extends it.
  const update = <P extends ParameterizedObject['params'] | undefined>(fn: (context: TailContext, params: P) => Partial<TailContext>) =>
    assign<C, AnyEventObject, P, AnyEventObject, never>(({ context }, params) => fn(context, params) as Partial<C>);
  return {
    targetEntered: update((_, { digits }: Digits) => ({ target: digits })),
    keepPassword: update((_, { digits }: Digits) => ({ password: digits })),
    nextStep: update(() => ({ attempts: 0, flushNext: false })),
    countFailure: update((context) => ({ attempts: context.attempts + 1, flushNext: true })),
    markFailed: update((_, { step }: { step: FlowStep }) => ({ outcome: 'failed_3_strikes', failedStep: step, password: null })),
    markHungUp: update((_, { step }: { step: FlowStep }) => ({ outcome: 'caller_hung_up', failedStep: step, password: null })),
    markStored: update(() => ({ outcome: 'completed', password: null })),
    markStoreFailed: update(() => ({ outcome: 'store_failed', failedStep: 'store', password: null })),
  };
}

// How a question ends when no entry is taken and no retry is left (three strikes), or the caller is gone.
const strikeOut = (step: FlowStep) => ({ target: 'threeStrikes', actions: { type: 'markFailed', params: { step } } }) as const;
// Only a hang-up ends a question quietly; any other failure leaves the error unhandled so the actor errors.
const hungUp = (step: FlowStep) =>
  ({ guard: { type: 'hungUp', params: failure }, target: 'hungUp', actions: { type: 'markHungUp', params: { step } } }) as const;

export interface QuestionSpec<C extends TailContext, Accepted extends readonly object[]> {
  /** The state's own name: a retry re-enters it. */
  self: string;
  /** What the outcome names when the question strikes out or the caller hangs up during it. */
  step: FlowStep;
  /** The invalid-entry notice before a retried question (a_invalid / b_invalid). */
  invalidPrompt: string;
  prompts(context: C): PromptItem[];
  collect(options: FlowOptions): CollectOptions;
  /** The transitions for a valid entry, tried in order; an entry none takes counts as a failure. */
  accepted: Accepted;
}

/**
 * One question: ask (after the invalid-entry notice on a retry), go on with the first accepted
 * entry, else ask again up to maxAttempts and then strike out; a hang-up ends the call.
 */
export function questionState<C extends TailContext, const Accepted extends readonly object[]>(q: QuestionSpec<C, Accepted>) {
  return {
    invoke: {
      src: 'ask',
      input: ({ context }: { context: C }): AskInput =>
        question(q.invalidPrompt, context.attempts, context.flushNext, q.prompts(context), q.collect(context.options)),
      onDone: [...q.accepted, { guard: 'mayRetry', reenter: true, actions: 'countFailure', target: q.self }, strikeOut(q.step)],
      onError: hungUp(q.step),
    },
  } as const;
}

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
    confirmPassword: questionState({
      self: 'confirmPassword',
      step: 'confirm_password',
      invalidPrompt: spec.invalidPrompt,
      prompts: () => [{ prompt: spec.confirmPrompt }],
      collect: spec.confirmCollect,
      accepted: [{ guard: { type: 'matchesPassword', params: entered }, target: 'storing', actions: 'nextStep' }],
    }),
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

// Shared vocabulary of the two 仮パスワード設定 flows: what the flows get as input,
// what they ask of the outside world (ask / say / store actors) and what they hand back.
// Pure: no I/O here or in the machines; the glue provides real actors.
import { fromPromise } from 'xstate';
import { HangupError, type CollectOptions, type CollectResult, type PromptItem } from '../src/media/port.ts';
import { isNationalNumber } from '../src/domain/phone-number.ts';
import { subscribesAny, type AuthUnit, type Contract, type ContractNumber, type MailService } from '../src/domain/subscriber.ts';

export interface FlowOptions {
  firstDigitTimeoutMs: number;
  interDigitTimeoutMs: number;
  /** The entry that fails this many times in one step ends the step (ivr.maxAttempts). */
  maxAttempts: number;
  /** Pattern A: a `#` this soon after a complete 8-digit entry is dropped (ivr.trailingHashWindowMs). */
  trailingHashWindowMs: number;
}

/** What the glue answers with media play (barge-in) followed by collect. */
export interface AskInput {
  prompts: PromptItem[];
  collect: CollectOptions;
  /** Drop digits buffered before this question (set after an invalid entry, so leftovers are not taken as the retry). */
  flushBuffered: boolean;
}

export interface SayInput {
  prompts: PromptItem[];
}

export type StoreInput =
  | { targetNumber: string; password: string; pattern: 'A'; authUnit: AuthUnit }
  | { targetNumber: string; password: string; pattern: 'B'; service: MailService };

/**
 * The call outcome the glue writes into the call record. Never holds entered passwords.
 * `caller_hung_up`: a question was cut off by HangupError before anything was stored
 * (`failedStep` says where). Any other ask failure is not an outcome: the machine
 * actor errors, so a broken or missing actor is loud.
 */
export interface FlowOutcome {
  outcome: 'completed' | 'failed_3_strikes' | 'store_failed' | 'caller_hung_up';
  unit?: AuthUnit;
  service?: MailService;
  target?: string;
  failedStep?: FlowStep;
}

export type FlowStep = 'unit_menu' | 'service_menu' | 'enter_number' | 'enter_password' | 'confirm_password' | 'store';

// Default actors throw, so a glue that forgets to provide one fails loudly instead of hanging.
export const unprovidedAsk = fromPromise<CollectResult, AskInput>(async () => {
  throw new Error('ask actor not provided: run the flow with machine.provide({ actors: { ask } })');
});
export const unprovidedSay = fromPromise<void, SayInput>(async () => {
  throw new Error('say actor not provided: run the flow with machine.provide({ actors: { say } })');
});
export const unprovidedStore = fromPromise<void, StoreInput>(async () => {
  throw new Error('store actor not provided: run the flow with machine.provide({ actors: { store } })');
});

export function isEightDigits(digits: string): boolean {
  return /^\d{8}$/.test(digits);
}

export function mainNumberOf(contract: Contract): string | undefined {
  return contract.numbers.find((n) => n.role === 'main')?.number;
}

/** The contract's number `digits`, if it subscribes one of `services`. */
export function numberWithService(contract: Contract, digits: string, services: readonly MailService[]): ContractNumber | undefined {
  if (!isNationalNumber(digits)) return undefined;
  return contract.numbers.find((n) => n.number === digits && subscribesAny(n, services));
}

export function contractSubscribes(contract: Contract, service: MailService): boolean {
  return contract.numbers.some((n) => n.services.includes(service));
}

// Collect shapes. An entry that ends with '#' gets max = longest valid entry + 1, so a
// correct entry is always ended by the terminator (or by the caller pausing) and the '#'
// is never left over to cut the next prompt short. Validity is the flows' rule, judged on
// the digits, never on how the entry ended.

/** Pattern A's one-key menu (1/2/3); a `#` pressed by habit right after the key is dropped. */
export function oneKey(o: FlowOptions): CollectOptions {
  return {
    max: 1,
    dropAfterMax: { keys: ['#'], withinMs: o.trailingHashWindowMs },
    firstDigitTimeoutMs: o.firstDigitTimeoutMs,
    interDigitTimeoutMs: o.interDigitTimeoutMs,
  };
}

/** A one-key menu confirmed with '#' (B: 0# / 1#). */
export function oneKeyHash(o: FlowOptions): CollectOptions {
  return { max: 2, terminators: ['#'], firstDigitTimeoutMs: o.firstDigitTimeoutMs, interDigitTimeoutMs: o.interDigitTimeoutMs };
}

/** A telephone number from 市外局番 then '#': 10 or 11 digits. */
export function phoneNumberHash(o: FlowOptions): CollectOptions {
  return { max: 12, terminators: ['#'], firstDigitTimeoutMs: o.firstDigitTimeoutMs, interDigitTimeoutMs: o.interDigitTimeoutMs };
}

/**
 * Pattern A's 8-digit temp password (its guide asks for 8 digits, nothing else): the entry
 * ends at the 8th digit, so the next prompt starts at once. A `#` pressed by habit right
 * after it is dropped; a `#` before the 8th digit ends a short (invalid) entry at once.
 */
export function eightDigits(o: FlowOptions): CollectOptions {
  return {
    max: 8,
    terminators: ['#'],
    dropAfterMax: { keys: ['#'], withinMs: o.trailingHashWindowMs },
    firstDigitTimeoutMs: o.firstDigitTimeoutMs,
    interDigitTimeoutMs: o.interDigitTimeoutMs,
  };
}

/** Pattern B's 8-digit temp password, ended by the '#' its guide asks for (or by a pause). */
export function eightDigitsHash(o: FlowOptions): CollectOptions {
  return { max: 9, terminators: ['#'], firstDigitTimeoutMs: o.firstDigitTimeoutMs, interDigitTimeoutMs: o.interDigitTimeoutMs };
}

/** The prompts of one question: the step's own prompts, preceded by the invalid-entry notice on a retry. */
export function question(
  invalidPrompt: string,
  attempts: number,
  flushBuffered: boolean,
  prompts: PromptItem[],
  collect: CollectOptions,
): AskInput {
  return { prompts: attempts > 0 ? [{ prompt: invalidPrompt }, ...prompts] : prompts, collect, flushBuffered };
}

/** Params shape the guards and actions get from an ask's done event: only the keys pressed. */
export function entered({ event }: { event: { output: CollectResult } }): { digits: string } {
  return { digits: event.output.digits };
}

/** Params for the `hungUp` guard from an ask's error event. */
export function failure({ event }: { event: { error: unknown } }): { error: unknown } {
  return { error: event.error };
}

export function isHangup(error: unknown): boolean {
  return error instanceof HangupError;
}

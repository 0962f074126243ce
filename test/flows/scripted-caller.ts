// A caller at a keypad, for running the flows without media: each answer is the keys the
// caller types after hearing a question. Keys are collected the way the media port does
// (stop at a terminator or at `max`, else the caller paused: timeout; a habitual key right
// after a `max` entry dropped when the flow asks), and keys beyond the end of an entry stay
// buffered for the next question unless the flow asks to flush them.
import { createActor, fromPromise, toPromise } from 'xstate';
import { HangupError, type CollectOptions, type CollectResult } from '../../src/media/port.ts';
import type { Contract, Pattern } from '../../src/domain/subscriber.ts';
import type { AskInput, FlowOutcome, SayInput, StoreInput } from '../../flows/temp-password-common.ts';
import { tempPasswordA, type TempPasswordAInput } from '../../flows/temp-password-a.ts';
import { tempPasswordB, type TempPasswordBInput } from '../../flows/temp-password-b.ts';

export function collectFrom(buffer: string[], opts: CollectOptions): CollectResult {
  let digits = '';
  while (buffer.length > 0) {
    const key = buffer.shift()!;
    if (opts.terminators?.includes(key)) return { digits, terminator: key, reason: 'terminator' };
    digits += key;
    if (digits.length >= opts.max) {
      // Typed in the same breath as the entry, so within the window: a habitual '#' is dropped.
      if (opts.dropAfterMax && buffer.length > 0 && opts.dropAfterMax.keys.includes(buffer[0]!)) buffer.shift();
      return { digits, reason: 'max' };
    }
  }
  return { digits, reason: 'timeout' };
}

export interface CallRecord {
  /** Everything the caller heard, in order: each ask's and say's prompts. */
  heard: Array<{ kind: 'ask' | 'say'; input: AskInput | SayInput }>;
  asks: AskInput[];
  stores: StoreInput[];
}

export interface ScriptOptions {
  /** Make the store actor reject. */
  storeFails?: boolean;
  /** Make the say actor reject (the caller hangs up during an announcement). */
  sayFails?: boolean;
}

/**
 * Actors for one call; a question with keys already typed ahead takes those, else the next
 * answer; `answers` run out → the caller hangs up (ask rejects with HangupError).
 */
export function scriptedActors(answers: string[], opts: ScriptOptions = {}) {
  const record: CallRecord = { heard: [], asks: [], stores: [] };
  const pending = [...answers];
  let buffer: string[] = [];
  const actors = {
    ask: fromPromise<CollectResult, AskInput>(async ({ input }) => {
      record.heard.push({ kind: 'ask', input });
      record.asks.push(input);
      if (input.flushBuffered) buffer = [];
      // Keys typed ahead answer the question (barge-in skips the prompt); otherwise the next answer.
      if (buffer.length === 0) {
        const answer = pending.shift();
        if (answer === undefined) throw new HangupError();
        buffer.push(...answer);
      }
      return collectFrom(buffer, input.collect);
    }),
    say: fromPromise<void, SayInput>(async ({ input }) => {
      record.heard.push({ kind: 'say', input });
      if (opts.sayFails) throw new HangupError();
    }),
    store: fromPromise<void, StoreInput>(async ({ input }) => {
      record.stores.push(input);
      if (opts.storeFails) throw new Error('database unavailable');
    }),
  };
  return { actors, record };
}

export async function runA(input: TempPasswordAInput, answers: string[], opts?: ScriptOptions) {
  const { actors, record } = scriptedActors(answers, opts);
  const actor = createActor(tempPasswordA.provide({ actors }), { input });
  actor.start();
  const output: FlowOutcome = await toPromise(actor);
  return { output, record, snapshot: actor.getSnapshot() };
}

export async function runB(input: TempPasswordBInput, answers: string[], opts?: ScriptOptions) {
  const { actors, record } = scriptedActors(answers, opts);
  const actor = createActor(tempPasswordB.provide({ actors }), { input });
  actor.start();
  const output: FlowOutcome = await toPromise(actor);
  return { output, record, snapshot: actor.getSnapshot() };
}

/** The prompt ids (and read-out numbers as `#0312345678`) of every question and announcement. */
export function promptTrail(record: CallRecord): string[] {
  return record.heard.flatMap((h) => h.input.prompts.map((p) => ('prompt' in p ? p.prompt : `#${p.digits}`)));
}

export const options = { firstDigitTimeoutMs: 5000, interDigitTimeoutMs: 3000, maxAttempts: 3, trailingHashWindowMs: 1500 };

/**
 * West-region contract: 契約者回線番号 0612340001 with 着信お知らせメール, additional numbers
 * 0612340002 (着信 + FAX), 0612340003 (no mail service), 05012340004 (11-digit, FAX).
 */
export function contract(pattern: Pattern, over: Partial<Contract> = {}): Contract {
  return {
    id: `c-${pattern}`,
    region: 'west',
    pattern,
    authUnit: 'line',
    numbers: [
      { number: '0612340001', role: 'main', services: ['chakushin_mail'] },
      { number: '0612340002', role: 'additional', services: ['chakushin_mail', 'fax_mail'] },
      { number: '0612340003', role: 'additional', services: ['voice_warp'] },
      { number: '05012340004', role: 'additional', services: ['fax_mail'] },
    ],
    authNumbers: pattern === 'B' ? ['0612349999'] : [],
    ...over,
  };
}

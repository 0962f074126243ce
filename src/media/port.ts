// The one media interface the IVR and the notify path use. Two implementations: the
// built-in RTP endpoint (embedded mode, tests) and FreeSWITCH through drachtio-fsmrf
// (production). Flows and calls never learn which one they talk to.

/** What a caller hears: a prompt id from prompts/catalog.json, or a number read digit by digit. */
export type PromptItem = { prompt: string } | { digits: string };

/**
 * One entry. collect() never judges what was pressed (a short entry is returned as it is):
 * whether the digits are valid is the flow's rule.
 */
export interface CollectOptions {
  /** Most digits; collection completes as soon as this many arrive. */
  max: number;
  /** Keys that end the entry (e.g. ['#']); not included in `digits`. */
  terminators?: string[];
  firstDigitTimeoutMs: number;
  interDigitTimeoutMs: number;
  /**
   * A key pressed by habit after an entry that ended on `max` (a `#` after the 8th digit):
   * the first key to arrive within `withinMs` of the end is dropped if it is one of `keys`,
   * instead of being buffered for the next collect. Any other key stays buffered (type-ahead).
   */
  dropAfterMax?: { keys: readonly string[]; withinMs: number };
}

export interface CollectResult {
  digits: string;
  /** The terminator pressed, if any. */
  terminator?: string;
  /** Why collection ended. */
  reason: 'max' | 'terminator' | 'timeout';
}

/** One answered call's media. Every method rejects with HangupError once the call is gone. */
export interface MediaSession {
  /** SDP answer for the caller's offer. */
  readonly localSdp: string;
  /**
   * Play items in order. With bargeIn, the first digit pressed stops playback;
   * that digit (and any after it) stays buffered for the next collect().
   */
  play(items: PromptItem[], opts?: { bargeIn?: boolean }): Promise<void>;
  /** Collect digits, starting with any already buffered (pressed during a prompt). */
  collect(opts: CollectOptions): Promise<CollectResult>;
  /**
   * Feed the body of a SIP INFO the caller sent in the call's dialog: a key in it (application/dtmf-relay
   * `Signal=5`, or application/dtmf `5`) counts as pressed. False when it carries no key (the glue answers 415).
   */
  injectInfo(contentType: string | undefined, body: string | Buffer | undefined): boolean;
  /** Drop any buffered digits (e.g. before a fresh question after an error). */
  flushDigits(): void;
  /**
   * Digit events: called for every key as it arrives (whatever its source), before it is
   * buffered for collect(). Returns the unsubscribe function. Never log the digit.
   */
  onDigit(listener: (digit: string) => void): () => void;
  /**
   * Opens the media toward a second party, for a call whose media stays anchored here once the
   * caller has heard us (ボイスワープ's 転送ガイダンス before the forward): see MediaBridge. It ends
   * with the session.
   */
  openBridge(): Promise<MediaBridge>;
  /** End the session: stops play/collect at once (they reject with HangupError) and frees the port. */
  close(): Promise<void>;
}

/**
 * The far side of an anchored call. The caller took our SDP as its answer (in a 183) and ignores SDP
 * in later responses of the dialog (RFC 3261 §13.2.1), so the far party's media cannot be handed to it:
 * the endpoint relays between the two instead, as FreeSWITCH does when it bridges after early media.
 */
export interface MediaBridge {
  /** SDP offer for the far party: the codec the caller's offer chose, and telephone-event if it had it. */
  readonly offerSdp: string;
  /**
   * The far party's SDP answer (from its 18x or its 200; again if it changes): from then on the caller
   * and the far party hear each other through the endpoint, and any prompt stops. Rejects with
   * UnsupportedMediaError when the answer has no usable audio.
   */
  connect(answerSdp: string): Promise<void>;
}

export interface MediaServer {
  /** Open a session for an SDP offer. Rejects with UnsupportedMediaError when nothing in the offer is usable. */
  open(offerSdp: string, opts: { callId: string }): Promise<MediaSession>;
  close(): Promise<void>;
}

export class HangupError extends Error {
  constructor() {
    super('call ended');
    this.name = 'HangupError';
  }
}

/** No media resource (an RTP port) is free: overload, not the caller's fault; the glue answers 503. */
export class PortsExhaustedError extends Error {
  constructor(min: number, max: number) {
    super(`no free RTP port in ${min}-${max}`);
    this.name = 'PortsExhaustedError';
  }
}

/**
 * The offer cannot be served (no audio, no supported codec, data/video only): answer 488
 * with `warning` as the Warning header value (RFC 3261 form: `305 chakushin "..."`).
 */
export class UnsupportedMediaError extends Error {
  constructor(readonly warning: string) {
    super(warning);
    this.name = 'UnsupportedMediaError';
  }
}

/** How a FAX reception ended (the same words as domain/fax.ts's FaxResult; the port imports nothing). */
export type FaxResult = 'complete' | 'partial' | 'failed';

/** What one FAX reception gave: the T.30 outcome and the document as PDF. */
export interface FaxReception {
  result: FaxResult;
  /** Pages received whole. */
  pages: number;
  /** The sender's station identity (TSI), '' when it gave none. */
  remoteIdent: string;
  /** Pixels per inch of the pages, `204x196`; null when no page came. */
  resolution: string | null;
  /** T.30 completion code (0 = OK) and its text; for failures the reason. */
  t30Code: number;
  t30Reason: string;
  /** Which transport carried the pages: audio (G.711) or T.38. */
  transport: 'g711' | 't38';
  /** The pages as one PDF; null when no page was received. */
  pdf: Uint8Array | null;
}

/** One answered FAX call's media. */
export interface FaxSession {
  /** SDP answer for the caller's offer. */
  readonly localSdp: string;
  /** Resolves once the T.30 session is over (done, failed, or the call ended): never rejects. */
  readonly done: Promise<FaxReception>;
  /**
   * A re-INVITE's offer (T.38 switch): resolves with our answer SDP; rejects with
   * UnsupportedMediaError when the offer is refused (answer 488 and keep the session as it is).
   */
  modify(offerSdp: string): Promise<string>;
  /** The call ended (BYE): T.30 stops now; `done` resolves with what was received. */
  close(): Promise<void>;
}

export interface FaxReceiveOptions {
  callId: string;
  /** Our station identity (CSI), e.g. the called number. */
  ident: string;
  /** No FAX (T.30 phase B) by then: the reception ends as failed (a caller who is not a FAX). */
  noFaxTimeoutMs: number;
  /** A reception longer than this is ended (a stuck or endless sender). */
  maxDurationMs: number;
}

/** Answers FAX calls: spandsp on the built-in endpoint, mod_spandsp's rxfax on FreeSWITCH. */
export interface FaxReceiver {
  /** Rejects with UnsupportedMediaError for an unusable offer, FaxUnavailableError when FAX cannot be received here. */
  receive(offerSdp: string, opts: FaxReceiveOptions): Promise<FaxSession>;
}

/** FAX reception is not possible on this machine (libspandsp2 missing); message says what to install. */
export class FaxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaxUnavailableError';
  }
}

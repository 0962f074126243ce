// The one media interface the IVR uses. Two implementations: the built-in RTP
// endpoint (embedded mode, tests) and FreeSWITCH through drachtio-fsmrf
// (production). Flows never learn which one they talk to.

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
  /** End the session: stops play/collect at once (they reject with HangupError) and frees the port. */
  close(): Promise<void>;
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

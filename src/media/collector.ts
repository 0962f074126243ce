// Digit buffer and collect() logic shared by both media implementations. Keys pressed
// while nobody is collecting (during a prompt, type-ahead) wait here for the next collect.
import type { DtmfSource } from './dtmf.ts';
import { HangupError, type CollectOptions, type CollectResult } from './port.ts';

export type DigitListener = (digit: string, source: DtmfSource) => void;

interface Waiter {
  opts: CollectOptions;
  digits: string;
  timer: NodeJS.Timeout | undefined;
  resolve(r: CollectResult): void;
  reject(e: Error): void;
}

export class DigitCollector {
  private buffer: string[] = [];
  private waiter: Waiter | undefined;
  private readonly listeners = new Set<DigitListener>();
  private closed = false;
  /** Set when an entry ended on max with dropAfterMax: the next key is dropped if it is one of `keys` and arrives by `until`. */
  private habitual: { keys: readonly string[]; until: number } | undefined;

  /** `now`: a monotonic clock in ms (injectable for tests). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  onDigit(listener: DigitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  push(digit: string, source: DtmfSource): void {
    if (this.closed) return;
    const habitual = this.habitual;
    this.habitual = undefined;
    // Dropped before the listeners hear it: a habitual '#' must not cut the next prompt short.
    if (habitual && habitual.keys.includes(digit) && this.now() <= habitual.until) return;
    this.buffer.push(digit);
    for (const l of this.listeners) l(digit, source);
    this.pump();
  }

  hasBuffered(): boolean {
    return this.buffer.length > 0;
  }

  flush(): void {
    this.buffer = [];
  }

  collect(opts: CollectOptions): Promise<CollectResult> {
    if (this.closed) return Promise.reject(new HangupError());
    if (this.waiter) return Promise.reject(new Error('collect() is already running on this call'));
    if (!(opts.max >= 1)) return Promise.reject(new RangeError('collect() needs max >= 1'));
    return new Promise((resolve, reject) => {
      this.waiter = { opts, digits: '', timer: undefined, resolve, reject };
      this.arm(opts.firstDigitTimeoutMs);
      this.pump();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = [];
    const w = this.waiter;
    this.waiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(new HangupError());
    }
    this.listeners.clear();
  }

  private arm(ms: number): void {
    const w = this.waiter!;
    clearTimeout(w.timer);
    w.timer = setTimeout(() => this.finish('timeout'), ms);
  }

  private pump(): void {
    while (this.waiter && this.buffer.length) {
      const w = this.waiter;
      const digit = this.buffer.shift()!;
      if (w.opts.terminators?.includes(digit)) {
        this.finish('terminator', digit);
        return;
      }
      w.digits += digit;
      if (w.digits.length >= w.opts.max) {
        this.finish('max');
        return;
      }
      this.arm(w.opts.interDigitTimeoutMs);
    }
  }

  private finish(reason: CollectResult['reason'], terminator?: string): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    clearTimeout(w.timer);
    const drop = w.opts.dropAfterMax;
    if (reason === 'max' && drop) {
      // Typed in the same burst as the entry: already buffered, so certainly within the window.
      if (this.buffer.length > 0) {
        if (drop.keys.includes(this.buffer[0]!)) this.buffer.shift();
      } else {
        this.habitual = { keys: drop.keys, until: this.now() + drop.withinMs };
      }
    }
    w.resolve(terminator === undefined ? { digits: w.digits, reason } : { digits: w.digits, terminator, reason });
  }
}

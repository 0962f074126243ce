// Wrong admin secrets from one address, remembered for a while: each further one in a row holds that
// address back for twice as long, and while it is held back no secret from it is even checked. So a
// guesser gets one verdict per hold, however many connections it opens.

interface Record {
  failures: number;
  heldUntil: number;
  lastFailure: number;
}

/** Failures older than this are forgotten. */
const FORGET_MS = 10 * 60_000;
/** Addresses remembered at most (the oldest go first): a spread of sources must not grow memory. */
const MAX_ADDRESSES = 10_000;

export class AuthThrottle {
  private records = new Map<string, Record>();

  constructor(private readonly baseMs: number, private readonly maxMs: number, private readonly now = () => Date.now()) {}

  /** Milliseconds this address is still held back (0: its attempt may be checked now). */
  heldFor(address: string): number {
    const r = this.fresh(address);
    return r ? Math.max(0, r.heldUntil - this.now()) : 0;
  }

  /** Records a wrong secret; returns how long to wait before answering it (the hold it starts). */
  failed(address: string): number {
    const now = this.now();
    const r = this.fresh(address) ?? { failures: 0, heldUntil: 0, lastFailure: 0 };
    r.failures++;
    r.lastFailure = now;
    const delay = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(r.failures - 1, 30));
    r.heldUntil = now + delay;
    this.records.delete(address);
    this.records.set(address, r);
    if (this.records.size > MAX_ADDRESSES) this.records.delete(this.records.keys().next().value as string);
    return delay;
  }

  succeeded(address: string): void {
    this.records.delete(address);
  }

  private fresh(address: string): Record | undefined {
    const r = this.records.get(address);
    if (r && this.now() - r.lastFailure > FORGET_MS) {
      this.records.delete(address);
      return undefined;
    }
    return r;
  }
}

// What the engine lets one peer, or all of them together, hold: SIP TCP connections, transactions,
// and attempts on the admin socket. One table of defaults; the service's config (sip.limits) and
// tests override single entries.
import { readdirSync, readFileSync } from 'node:fs';

export interface EngineLimits {
  /**
   * SIP TCP connections open at once, in total (further capped by the descriptor reserve) and per source address.
   * The total counts untrusted sources only, so a flood from many addresses never locks the trunk out.
   */
  tcpMaxConnections: number;
  tcpMaxConnectionsPerAddress: number;
  /** Descriptors kept free for RTP, the database and HTTP: TCP connections never take more than RLIMIT_NOFILE minus this. */
  fdReserve: number;
  /** A TCP connection must complete its first message, and any message it has begun, within this (slow-loris guard). */
  tcpMessageTimeoutMs: number;
  /** A TCP connection with no complete message in either direction for this long is closed. */
  tcpIdleTimeoutMs: number;
  /** Live transactions beyond which new requests outside a dialog get 503 with Retry-After. */
  maxTransactions: number;
  /** Retry-After (seconds) on the engine's own 503s for capacity. */
  retryAfterSec: number;
  /** Admin socket: a connection must authenticate within this, or it is closed. */
  adminAuthTimeoutMs: number;
  /** Admin connections not yet authenticated, at once; the oldest is closed to make room. */
  adminMaxUnauthenticated: number;
  /** A wrong secret from an address is answered after this, doubled for each further one in a row, up to the max. */
  adminFailureDelayMs: number;
  adminFailureDelayMaxMs: number;
}

export const DEFAULT_LIMITS: EngineLimits = {
  tcpMaxConnections: 1024,
  tcpMaxConnectionsPerAddress: 64,
  fdReserve: 1024,
  tcpMessageTimeoutMs: 5_000,
  tcpIdleTimeoutMs: 300_000,
  maxTransactions: 60_000,
  retryAfterSec: 5,
  adminAuthTimeoutMs: 5_000,
  adminMaxUnauthenticated: 32,
  adminFailureDelayMs: 500,
  adminFailureDelayMaxMs: 8_000,
};

/** Bytes an admin connection may send before it has authenticated (an `authenticate` frame is about 100). */
export const ADMIN_PREAUTH_BYTES = 512;

/** The process's soft RLIMIT_NOFILE (Node raises it to the hard limit at start), when the platform tells. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How many SIP TCP connections may be open at once: the configured cap, lowered so that `fdReserve`
 * descriptors stay free. A limit so low that the reserve would leave less than a quarter of it still
 * gives TCP that quarter (and `lowFdLimit` says so, for a warning).
 */
export function tcpConnectionCap(limits: EngineLimits, nofile = openFileLimit()): { cap: number; lowFdLimit: boolean } {
  if (nofile === undefined) return { cap: limits.tcpMaxConnections, lowFdLimit: false };
  const afterReserve = nofile - limits.fdReserve;
  const quarter = Math.floor(nofile / 4);
  if (afterReserve < quarter) return { cap: Math.min(limits.tcpMaxConnections, quarter), lowFdLimit: true };
  return { cap: Math.min(limits.tcpMaxConnections, afterReserve), lowFdLimit: false };
}

/**
 * Watches how many descriptors the whole process has open (RTP sockets, database, HTTP, SIP), counted
 * once a second in /proc/self/fd. When fewer than `minFree` remain, new calls are refused with 503
 * rather than failing inside (an RTP socket that cannot be bound).
 */
export class DescriptorWatch {
  private open = 0;
  private readonly timer?: NodeJS.Timeout;

  constructor(private readonly nofile: number | undefined, readonly minFree: number, count = countOpenDescriptors) {
    if (nofile === undefined) return;
    this.timer = setInterval(() => { this.open = count() ?? this.open; }, 1000);
    this.timer.unref();
  }

  get low(): boolean {
    return this.nofile !== undefined && this.nofile - this.open < this.minFree;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Open descriptors of this process; undefined where /proc is not there. Not being able to open the
 * directory (EMFILE) is the exhaustion itself. Synchronous on purpose: a fraction of a millisecond
 * for hundreds of descriptors, whereas the async form (through libuv's thread pool) made the RTP clock
 * of a call starting at that moment miss frames (test/media/e2e-sip.test.ts).
 */
function countOpenDescriptors(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EMFILE' || code === 'ENFILE' ? Infinity : undefined;
  }
}

/** Free descriptors below which new calls get 503: a quarter of the reserve, and never fewer than 16. */
export function minFreeDescriptors(limits: EngineLimits): number {
  return Math.max(16, Math.floor(limits.fdReserve / 4));
}

// Cuts a TCP byte stream into SIP messages using Content-Length (RFC 3261 §18.3).
// The framer alone decides where a message ends, so it must read Content-Length exactly: a value
// it misread would let a body be taken for the next message (request smuggling). Anything it
// cannot take exactly ends the stream.
import { findHeaderEnd, MAX_MESSAGE_BYTES, parseContentLength } from './message.ts';

/** The stream cannot be framed any more; `head` is the header section it stopped at, for a stateless answer. */
export class StreamFramingError extends Error {
  constructor(message: string, readonly status: 400 | 513, readonly head?: Buffer) {
    super(message);
    this.name = 'StreamFramingError';
  }
}

/** A drained buffer bigger than this is let go rather than kept for the next message. */
const KEEP_BYTES = 16 * 1024;

export class StreamFramer {
  // Bytes arrive into one growing buffer, and the search for the header end resumes where it stopped,
  // so a message trickled in one byte at a time costs linear work, not a copy and a rescan per byte.
  private store: Buffer = Buffer.alloc(0);
  /** Whether `store` is the framer's own allocation (a caller's chunk is never written to). */
  private owned = false;
  private start = 0;
  private end = 0;
  /** Bytes after `start` already searched for the header end, without finding it. */
  private scanned = 0;
  /** Length of the message at `start`, once its header section has been read. */
  private need?: number;

  /** Bytes of a message begun but not complete (CRLF keep-alives between messages do not count). */
  get pending(): number {
    return this.end - this.start;
  }

  /**
   * Feeds bytes; returns the complete messages now available.
   * Throws StreamFramingError when the stream cannot be framed any more (the connection must then be closed).
   */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      if (this.need === undefined) {
        // CRLF keep-alives between messages (RFC 5626 §3.5.1)
        while (this.start < this.end && (this.store[this.start] === 0x0d || this.store[this.start] === 0x0a)) this.start++;
      }
      const view = this.store.subarray(this.start, this.end);
      if (!view.length) break;
      if (this.need === undefined) {
        const he = findHeaderEnd(view, Math.max(0, this.scanned - 3));
        if (!he) {
          if (view.length > MAX_MESSAGE_BYTES) throw new StreamFramingError('header section too large', 513);
          this.scanned = view.length;
          break;
        }
        const head = view.subarray(0, he.end);
        this.need = he.end + he.sepLen + bodyLength(head);
        if (this.need > MAX_MESSAGE_BYTES) throw new StreamFramingError('message too large', 513, Buffer.from(head));
      }
      if (view.length < this.need) break;
      out.push(Buffer.from(view.subarray(0, this.need)));
      this.start += this.need;
      this.need = undefined;
      this.scanned = 0;
    }
    if (this.start === this.end) {
      this.start = this.end = 0;
      if (!this.owned || this.store.length > KEEP_BYTES) {
        this.store = Buffer.alloc(0);
        this.owned = false;
      }
    }
    return out;
  }

  private append(chunk: Buffer): void {
    if (this.start === this.end && !this.owned) {
      // Nothing held: read the chunk where it is.
      this.store = chunk;
      this.start = 0;
      this.end = chunk.length;
      return;
    }
    if (this.end + chunk.length > this.store.length) {
      const held = this.end - this.start;
      const size = Math.max(held + chunk.length, 2 * held, 4096);
      // The message keeps its place in a buffer of its own: received chunks are not pinned.
      const next = this.owned && size <= this.store.length ? this.store : Buffer.allocUnsafeSlow(size);
      this.store.copy(next, 0, this.start, this.end);
      this.store = next;
      this.owned = true;
      this.start = 0;
      this.end = held;
    }
    chunk.copy(this.store, this.end);
    this.end += chunk.length;
  }
}

/** Content-Length of a header section: every occurrence (long or compact form) must read as the same number. */
function bodyLength(head: Buffer): number {
  let found: number | undefined;
  // Folded continuation lines belong to the header above them (RFC 3261 §7.3.1).
  const lines = head.toString('latin1').split(/\r?\n(?![ \t])/);
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name !== 'content-length' && name !== 'l') continue;
    const value = parseContentLength(line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' '));
    if (value === undefined) throw new StreamFramingError('malformed Content-Length', 400, Buffer.from(head));
    if (value === Infinity) throw new StreamFramingError('message too large', 513, Buffer.from(head));
    if (found !== undefined && found !== value) throw new StreamFramingError('conflicting Content-Length headers', 400, Buffer.from(head));
    found = value;
  }
  // A stream message without Content-Length has no body: the RFC makes it mandatory on TCP.
  return found ?? 0;
}

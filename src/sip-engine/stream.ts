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

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);

  /** Bytes of a message begun but not complete (CRLF keep-alives between messages do not count). */
  get pending(): number {
    return this.buf.length;
  }

  /**
   * Feeds bytes; returns the complete messages now available.
   * Throws StreamFramingError when the stream cannot be framed any more (the connection must then be closed).
   */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      // CRLF keep-alives between messages (RFC 5626 §3.5.1)
      let skip = 0;
      while (skip < this.buf.length && (this.buf[skip] === 0x0d || this.buf[skip] === 0x0a)) skip++;
      if (skip) this.buf = this.buf.subarray(skip);
      if (!this.buf.length) break;
      const he = findHeaderEnd(this.buf);
      if (!he) {
        if (this.buf.length > MAX_MESSAGE_BYTES) throw new StreamFramingError('header section too large', 513);
        break;
      }
      const head = this.buf.subarray(0, he.end);
      const bodyLen = bodyLength(head);
      const total = he.end + he.sepLen + bodyLen;
      if (total > MAX_MESSAGE_BYTES) throw new StreamFramingError('message too large', 513, Buffer.from(head));
      if (this.buf.length < total) break;
      out.push(Buffer.from(this.buf.subarray(0, total)));
      this.buf = this.buf.subarray(total);
    }
    if (!this.buf.length) this.buf = Buffer.alloc(0); // do not pin the last chunk
    return out;
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

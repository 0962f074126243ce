// Cuts a TCP byte stream into SIP messages using Content-Length (RFC 3261 §18.3).
import { MAX_MESSAGE_BYTES } from './message.ts';

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);

  /**
   * Feeds bytes; returns the complete messages now available.
   * Throws when the stream cannot be framed any more (the connection must then be closed).
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
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buf.length > MAX_MESSAGE_BYTES) throw new Error('header section too large');
        break;
      }
      const head = this.buf.subarray(0, end).toString('latin1');
      const m = /(?:^|\r\n)(?:content-length|l)[ \t]*:[ \t]*(\d{1,9})[ \t]*(?:\r\n|$)/i.exec(head);
      // A stream message without Content-Length has no body: the RFC makes it mandatory on TCP.
      const bodyLen = m ? Number(m[1]) : 0;
      const total = end + 4 + bodyLen;
      if (total > MAX_MESSAGE_BYTES) throw new Error('message too large');
      if (this.buf.length < total) break;
      out.push(Buffer.from(this.buf.subarray(0, total)));
      this.buf = this.buf.subarray(total);
    }
    return out;
  }
}

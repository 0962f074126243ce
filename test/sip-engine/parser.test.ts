import { describe, expect, it } from 'vitest';
import {
  getHeader, getHeaders, parseMessage, parseNameAddr, parseUri, parseVia, serialize, SipParseError, splitList, tagOf,
} from '../../src/sip-engine/message.ts';
import { StreamFramer, StreamFramingError } from '../../src/sip-engine/stream.ts';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');
const base = [
  'INVITE sip:0312345678@example.jp;user=phone SIP/2.0',
  'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport',
  'Via: SIP/2.0/TCP 192.0.2.2,SIP/2.0/UDP 192.0.2.3:5070;branch=z9hG4bK3',
  'f: "山田 太郎" <sip:0311112222@example.jp>;tag=abc',
  't: sip:0312345678@example.jp',
  'i: call-1@example.jp',
  'CSeq: 7 INVITE',
  'm: <sip:a@192.0.2.1:5060;transport=udp>;expires=60, <sip:b@192.0.2.1>',
  'Subject: folded',
  '  across lines',
];

describe('SIP parser', () => {
  it('expands compact forms, splits comma lists and unfolds headers', () => {
    const body = 'こんにちは';
    const msg = parseMessage(crlf([...base, `l: ${Buffer.byteLength(body)}`, 'c: text/plain', '', body]));
    expect(msg.kind).toBe('request');
    expect(getHeader(msg, 'call-id')).toBe('call-1@example.jp');
    expect(getHeaders(msg, 'via')).toHaveLength(3);
    expect(getHeaders(msg, 'contact')).toEqual(['<sip:a@192.0.2.1:5060;transport=udp>;expires=60', '<sip:b@192.0.2.1>']);
    expect(getHeader(msg, 'subject')).toBe('folded across lines');
    expect(msg.body.toString('utf8')).toBe(body);
    expect(tagOf(getHeader(msg, 'from'))).toBe('abc');
    expect(parseNameAddr(getHeader(msg, 'from') ?? '')?.display).toBe('"山田 太郎"');
  });

  it('writes a byte-accurate Content-Length for UTF-8 bodies and round-trips', () => {
    const msg = parseMessage(crlf([...base, 'Content-Length: 0', '', '']));
    msg.body = Buffer.from('テスト', 'utf8');
    const text = serialize(msg).toString('utf8');
    expect(text).toContain('Content-Length: 9\r\n');
    expect(text).toContain('Call-ID: call-1@example.jp');
    const again = parseMessage(serialize(msg));
    expect(again.body.toString('utf8')).toBe('テスト');
  });

  it('cuts a datagram body to Content-Length and rejects a Content-Length larger than the body', () => {
    expect(parseMessage(crlf([...base, 'Content-Length: 2', '', 'abcd'])).body.toString()).toBe('ab');
    expect(() => parseMessage(crlf([...base, 'Content-Length: 20', '', 'abcd']))).toThrow(/Content-Length larger/);
  });

  it.each([
    ['a malformed start line', ['INVITE  SIP/2.0', ...base.slice(1)], /start line/],
    ['a missing Call-ID', base.filter((l) => !l.startsWith('i:')), /missing Call-ID/],
    ['a missing Via', base.filter((l) => !/^(v|Via):/.test(l)), /missing Via/],
    ['a CSeq method mismatch', base.map((l) => (l.startsWith('CSeq') ? 'CSeq: 7 BYE' : l)), /CSeq method/],
    ['a header line without colon', [...base, 'garbage'], /malformed header/],
  ])('rejects %s with a 400 that still carries what was parsed', (_name, lines, re) => {
    let err: unknown;
    try {
      parseMessage(crlf([...lines, '', '']));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SipParseError);
    expect((err as SipParseError).message).toMatch(re);
    expect((err as SipParseError).status).toBe(400);
    expect((err as SipParseError).partial?.kind).toBe('request');
  });

  it('rejects another SIP version with 505, keeping the headers to answer with; an app\'s such message has no partial', () => {
    const lines = crlf(['INVITE sip:x@example.jp SIP/3.0', ...base.slice(1), '', '']);
    expect(() => parseMessage(lines)).toThrow(expect.objectContaining({ status: 505, message: 'unsupported SIP version SIP/3.0' }));
    try { parseMessage(lines); } catch (e) { expect(getHeader((e as SipParseError).partial ?? { headers: [] }, 'call-id')).toBeTruthy(); }
    try { parseMessage(lines, { fromApp: true }); } catch (e) { expect((e as SipParseError).partial).toBeUndefined(); }
  });

  it('rejects oversized messages with 513', () => {
    const big = Buffer.alloc(70_000, 'a');
    expect(() => parseMessage(big)).toThrow(expect.objectContaining({ status: 513 }));
  });

  it('parses responses, URIs, Via and quoted commas', () => {
    const res = parseMessage(crlf(['SIP/2.0 180 Ringing', ...base.slice(1), '', '']));
    expect(res.kind === 'response' && res.status).toBe(180);
    expect(parseUri('sip:0312345678@[2001:db8::1]:5080;transport=tcp')).toMatchObject({ user: '0312345678', host: '[2001:db8::1]', port: 5080 });
    expect(parseUri('sip:0312345678@[2001:db8::1]:5080;transport=tcp')?.params.get('transport')).toBe('tcp');
    expect(parseVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport')).toMatchObject({ transport: 'UDP', host: '192.0.2.1', port: 5060 });
    expect(splitList('"a, b" <sip:x@y>, <sip:z@w;p=1,2>')).toEqual(['"a, b" <sip:x@y>', '<sip:z@w;p=1,2>']);
  });
});

describe('TCP stream framing', () => {
  it('splits messages by Content-Length across arbitrary chunk boundaries, skipping CRLF keep-alives', () => {
    const one = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nhello');
    const two = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n');
    const stream = Buffer.concat([Buffer.from('\r\n\r\n'), one, two]);
    const framer = new StreamFramer();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 7) out.push(...framer.push(stream.subarray(i, i + 7)));
    expect(out.map((b) => b.toString())).toEqual([one.toString(), two.toString()]);
  });

  it('frames the same messages fed one byte at a time as in one chunk, and never writes to the chunks it is given', () => {
    const body = 'ボディ'.repeat(50);
    const msgs = [
      `INVITE sip:a@b SIP/2.0\r\nX-Pad: ${'p'.repeat(5000)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      'OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n',
      `MESSAGE sip:a@b SIP/2.0\nContent-Length: 0003\n\nabc`,
    ];
    const stream = Buffer.from(`\r\n${msgs[0]}\r\n\r\n${msgs[1]}${msgs[2]}`);
    const copy = Buffer.from(stream);
    const framer = new StreamFramer();
    const out: string[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...framer.push(stream.subarray(i, i + 1)).map((b) => b.toString()));
    expect(out).toEqual(msgs);
    expect(new StreamFramer().push(stream).map((b) => b.toString())).toEqual(msgs);
    for (const size of [3, 100, 4097]) {
      const f = new StreamFramer();
      const got: string[] = [];
      for (let i = 0; i < stream.length; i += size) got.push(...f.push(stream.subarray(i, i + size)).map((b) => b.toString()));
      expect(got, `chunks of ${size}`).toEqual(msgs);
      expect(f.pending).toBe(0);
    }
    expect(stream.equals(copy)).toBe(true);
  });

  it('gives up on a stream whose headers never end', () => {
    const framer = new StreamFramer();
    expect(() => framer.push(Buffer.alloc(70_000, 'x'))).toThrow(/too large/);
  });
});

describe('Content-Length taken exactly (no request smuggling)', () => {
  const hidden = 'OPTIONS sip:hidden@b SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKh\r\nContent-Length: 0\r\n\r\n';
  const outer = (cl: string, body = hidden) => Buffer.from(`MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKo\r\n${cl}\r\n\r\n${body}`);
  const framingError = (buf: Buffer) => {
    try {
      new StreamFramer().push(buf);
    } catch (e) {
      return e as StreamFramingError;
    }
    throw new Error('framed without error');
  };

  it.each([
    ['leading zeros beyond nine digits', `Content-Length: 0000000000${Buffer.byteLength(hidden)}`],
    ['the compact form with spaces before the colon', `l  :  ${Buffer.byteLength(hidden)}`],
    ['the same value twice', `Content-Length: ${Buffer.byteLength(hidden)}\r\nl: 0${Buffer.byteLength(hidden)}`],
    ['a folded value', `Content-Length:\r\n  ${Buffer.byteLength(hidden)}`],
  ])('takes %s as the length: the request in the body stays body', (_name, cl) => {
    const out = new StreamFramer().push(outer(cl));
    expect(out).toHaveLength(1);
    expect(out[0]?.toString().endsWith(hidden)).toBe(true);
  });

  it.each([
    ['a value that is not a number', 'Content-Length: 1e3'],
    ['a negative value', 'Content-Length: -1'],
    ['an empty value', 'Content-Length:'],
    ['digits with junk after them', 'Content-Length: 12 13'],
    ['two different values', `Content-Length: ${Buffer.byteLength(hidden)}\r\nl: 0`],
  ])('ends the stream with 400 on %s, keeping the head to answer', (_name, cl) => {
    const err = framingError(outer(cl));
    expect(err).toBeInstanceOf(StreamFramingError);
    expect(err.status).toBe(400);
    expect(err.head?.toString()).toMatch(/^MESSAGE sip:a@b SIP\/2\.0\r\n/);
  });

  it('ends the stream with 513 on a length larger than any message, however many digits', () => {
    for (const cl of ['Content-Length: 65536', 'Content-Length: 99999999999999999999999999', 'Content-Length: 000000000000000000070000']) {
      expect(framingError(outer(cl)).status).toBe(513);
    }
  });

  it('agrees with the parser on where the header section ends (bare LF)', () => {
    const lf = Buffer.from(`OPTIONS sip:a@b SIP/2.0\nContent-Length: 5\n\nhello${hidden}`);
    const out = new StreamFramer().push(lf);
    expect(out.map((b) => b.toString())).toEqual([`OPTIONS sip:a@b SIP/2.0\nContent-Length: 5\n\nhello`, hidden]);
  });

  it('parses leading zeros in Content-Length and refuses a Max-Forwards that is not a number', () => {
    const req = (extra: string, body = '') => crlf([...base, extra, '', body]);
    expect(parseMessage(req('Content-Length: 000000000003', 'abc')).body.toString()).toBe('abc');
    for (const mf of ['Max-Forwards: abc', 'Max-Forwards: -1', 'Max-Forwards: 7 0', 'Max-Forwards:']) {
      expect(() => parseMessage(req(mf))).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(/Max-Forwards/) }));
    }
    expect(getHeader(parseMessage(req('Max-Forwards: 0070')), 'max-forwards')).toBe('0070');
  });
});

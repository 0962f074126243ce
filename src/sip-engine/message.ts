// RFC 3261 message model, parser and serializer.
// Headers keep their order and repetition; names are normalised to lower-case long form
// for lookup, and written back in their canonical spelling.

export interface Header {
  /** lower-case long form, e.g. 'call-id' even when received as 'i' */
  key: string;
  value: string;
}

interface Base {
  headers: Header[];
  body: Buffer;
}
export interface SipRequest extends Base {
  kind: 'request';
  method: string;
  uri: string;
}
export interface SipResponse extends Base {
  kind: 'response';
  status: number;
  reason: string;
}
export type SipMessage = SipRequest | SipResponse;

/** Largest message the engine accepts on any transport (UDP datagram limit). */
export const MAX_MESSAGE_BYTES = 65_535;

const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type',
  f: 'from', s: 'subject', k: 'supported', t: 'to', v: 'via', o: 'event', r: 'refer-to',
  b: 'referred-by', x: 'session-expires', u: 'allow-events', a: 'accept-contact',
  j: 'reject-contact', d: 'request-disposition', y: 'identity', n: 'identity-info',
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID', cseq: 'CSeq', via: 'Via', 'www-authenticate': 'WWW-Authenticate',
  rseq: 'RSeq', rack: 'RAck', 'mime-version': 'MIME-Version', 'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity', 'sip-etag': 'SIP-ETag', 'sip-if-match': 'SIP-If-Match',
};

/** Headers whose comma-separated values are separate entries (RFC 3261 §7.3.1). */
const LIST_HEADERS = new Set(['via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require',
  'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language', 'p-asserted-identity']);

export const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO', 'PRACK',
  'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'UPDATE', 'PUBLISH']);

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

export function headerKey(name: string): string {
  const lower = name.trim().toLowerCase();
  return COMPACT[lower] ?? lower;
}

export function canonicalName(key: string): string {
  return CANONICAL[key] ?? key.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

export class SipParseError extends Error {
  /** Response status the RFC prescribes (400, 505 or 513), when the message can be answered at all. */
  readonly status: number;
  /** Whatever could be read, so the caller may still answer a request. */
  readonly partial?: SipMessage;
  constructor(message: string, status = 400, partial?: SipMessage) {
    super(message);
    this.name = 'SipParseError';
    this.status = status;
    if (partial) this.partial = partial;
  }
}

export function getHeader(msg: { headers: Header[] }, name: string): string | undefined {
  const key = headerKey(name);
  return msg.headers.find((h) => h.key === key)?.value;
}

/** All values of a header, with comma-separated list headers split into entries. */
export function getHeaders(msg: { headers: Header[] }, name: string): string[] {
  const key = headerKey(name);
  const out: string[] = [];
  for (const h of msg.headers) {
    if (h.key !== key) continue;
    if (LIST_HEADERS.has(key)) out.push(...splitList(h.value));
    else out.push(h.value);
  }
  return out;
}

export function removeHeader(msg: { headers: Header[] }, name: string): void {
  const key = headerKey(name);
  msg.headers = msg.headers.filter((h) => h.key !== key);
}

/** Replaces every occurrence of a header by the given values, keeping the first one's position. */
export function setHeader(msg: { headers: Header[] }, name: string, ...values: string[]): void {
  const key = headerKey(name);
  const idx = msg.headers.findIndex((h) => h.key === key);
  const rest = msg.headers.filter((h) => h.key !== key);
  const add = values.map((value) => ({ key, value }));
  if (idx < 0) rest.push(...add);
  else rest.splice(idx, 0, ...add);
  msg.headers = rest;
}

/** Splits a header value on commas that are not inside quotes or angle brackets. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') depth++;
    else if (c === '>') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      const part = value.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}

/**
 * Where the header section ends: the first empty line, CRLF or bare LF (the framer and the parser agree
 * on it). `from`: where to resume a search that found nothing before (at most 3 bytes before the old end).
 */
export function findHeaderEnd(buf: Buffer, from = 0): { end: number; sepLen: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n', from);
  const lf = buf.indexOf('\n\n', from);
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { end: crlf, sepLen: 4 };
  if (lf >= 0) return { end: lf, sepLen: 2 };
  return undefined;
}

/**
 * Parses one complete SIP message. For datagrams the body is whatever follows the headers,
 * cut to Content-Length; a Content-Length larger than what arrived is an error.
 */
export function parseMessage(buf: Buffer, opts: { fromApp?: boolean } = {}): SipMessage {
  if (buf.length > MAX_MESSAGE_BYTES) throw new SipParseError('message too large', 513);
  // Keep-alive CRLFs before the start line are allowed (RFC 5626 §3.5.1).
  let offset = 0;
  while (offset < buf.length && (buf[offset] === 0x0d || buf[offset] === 0x0a)) offset++;
  const data = offset ? buf.subarray(offset) : buf;
  const he = findHeaderEnd(data);
  const headText = (he ? data.subarray(0, he.end) : data).toString('utf8');
  const bodyStart = he ? he.end + he.sepLen : data.length;

  const rawLines = headText.split(/\r?\n/);
  const startLine = rawLines.shift() ?? '';
  const lines: string[] = [];
  for (const line of rawLines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && lines.length > 0) {
      lines[lines.length - 1] += ' ' + line.trim(); // header folding (LWS)
    } else lines.push(line);
  }

  let msg: SipMessage;
  /** A request whose start line is wrong is still answered (400, or 505 for another version) when its headers allow. */
  let startProblem: { status: number; why: string } | undefined;
  const resp = /^SIP\/2\.0 ([1-6]\d\d) ?(.*)$/.exec(startLine);
  if (resp) {
    msg = { kind: 'response', status: Number(resp[1]), reason: resp[2] ?? '', headers: [], body: Buffer.alloc(0) };
  } else {
    const parts = startLine.split(' ');
    const [method = '', uri = '', version = ''] = parts;
    if (!TOKEN.test(method) || /^SIP\//i.test(startLine)) {
      throw new SipParseError(`malformed start line: ${JSON.stringify(startLine.slice(0, 80))}`);
    }
    msg = { kind: 'request', method, uri, headers: [], body: Buffer.alloc(0) };
    if (parts.length === 3 && /^SIP\/\d+\.\d+$/.test(version) && version !== 'SIP/2.0') {
      startProblem = { status: 505, why: `unsupported SIP version ${version}` };
    } else if (parts.length !== 3 || version !== 'SIP/2.0' || !/^[a-zA-Z][\w+.-]*:\S+$/.test(uri)) {
      startProblem = { status: 400, why: `malformed start line: ${JSON.stringify(startLine.slice(0, 80))}` };
    }
  }

  const problems: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!name || !TOKEN.test(name)) {
      problems.push(`malformed header line ${JSON.stringify(line.slice(0, 40))}`);
      continue;
    }
    msg.headers.push({ key: headerKey(name), value: line.slice(colon + 1).trim() });
  }

  // An app's message with a bad start line is refused whole; a network request may still be answered.
  if (startProblem) throw new SipParseError(startProblem.why, startProblem.status, opts.fromApp ? undefined : msg);
  if (opts.fromApp) {
    // The app leaves Via, Call-ID, CSeq… to the engine, and its Content-Length may count characters.
    msg.body = Buffer.from(data.subarray(bodyStart));
    if (problems.length) throw new SipParseError(problems.join('; '), 400, msg);
    return msg;
  }
  for (const mandatory of ['via', 'from', 'to', 'call-id', 'cseq']) {
    if (!getHeader(msg, mandatory)) problems.push(`missing ${canonicalName(mandatory)}`);
  }
  const cseq = parseCSeq(getHeader(msg, 'cseq') ?? '');
  if (getHeader(msg, 'cseq') && !cseq) problems.push('malformed CSeq');
  if (cseq && msg.kind === 'request' && cseq.method !== msg.method) problems.push('CSeq method does not match');
  if (getHeader(msg, 'via') && !parseVia(getHeaders(msg, 'via')[0] ?? '')) problems.push('malformed Via');
  const maxForwards = getHeader(msg, 'max-forwards');
  if (maxForwards !== undefined && !/^\d+$/.test(maxForwards)) problems.push('malformed Max-Forwards');

  const clText = getHeader(msg, 'content-length');
  const available = data.length - bodyStart;
  let bodyLen = available;
  if (clText !== undefined) {
    const cl = parseContentLength(clText);
    if (cl === undefined) problems.push('malformed Content-Length');
    else if (cl > available) problems.push('Content-Length larger than body');
    else bodyLen = cl;
  }
  msg.body = Buffer.from(data.subarray(bodyStart, bodyStart + Math.max(0, bodyLen)));

  if (problems.length) throw new SipParseError(problems.join('; '), 400, msg);
  return msg;
}

function headText(msg: SipMessage): string {
  let head = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0\r\n` : `SIP/2.0 ${msg.status} ${msg.reason}\r\n`;
  for (const h of msg.headers) {
    if (h.key === 'content-length') continue;
    head += `${canonicalName(h.key)}: ${h.value}\r\n`;
  }
  return head + `Content-Length: ${msg.body.length}\r\n\r\n`;
}

/**
 * One exact-size allocation outside Node's shared 8 KB Buffer pool: transactions and dialogs keep
 * serialized messages for up to 64·T1, and a small pooled slice would pin its whole slab that long.
 */
export function serialize(msg: SipMessage): Buffer {
  const head = headText(msg);
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafeSlow(headLen + msg.body.length);
  out.write(head, 0, 'utf8');
  msg.body.copy(out, headLen);
  return out;
}

/** What serialize() would produce, as text for the app link, with its size in bytes; no Buffer in between. */
export function messageText(msg: SipMessage): { text: string; bytes: number } {
  const head = headText(msg);
  return {
    text: msg.body.length ? head + msg.body.toString('utf8') : head,
    bytes: Buffer.byteLength(head, 'utf8') + msg.body.length,
  };
}

/**
 * A Content-Length value read exactly: 1*DIGIT of any length, leading zeros allowed (RFC 3261 §20.14).
 * `undefined` when it is not a number at all; `Infinity` when it is one but larger than any message.
 */
export function parseContentLength(value: string): number | undefined {
  const v = value.trim();
  if (!/^\d+$/.test(v)) return undefined;
  const digits = v.replace(/^0+(?=\d)/, '');
  return digits.length > String(MAX_MESSAGE_BYTES).length ? Infinity : Number(digits);
}

export interface CSeq { seq: number; method: string }
export function parseCSeq(value: string): CSeq | undefined {
  const m = /^(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(value.trim());
  if (!m) return undefined;
  const seq = Number(m[1]);
  if (seq > 2 ** 31 - 1) return undefined;
  return { seq, method: m[2] ?? '' };
}

/** The branch parameter of the top Via: with the method, what names a client transaction (§17.1.3). */
export function topBranch(msg: { headers: Header[] }): string | undefined {
  return /;\s*branch=([^;,\s]+)/i.exec(getHeaders(msg, 'via')[0] ?? '')?.[1];
}

/** The message's CSeq, parsed; undefined when absent or malformed. */
export function cseqOf(msg: { headers: Header[] }): CSeq | undefined {
  return parseCSeq(getHeader(msg, 'cseq') ?? '');
}

export interface Via {
  transport: string;
  host: string;
  port?: number;
  params: Map<string, string>;
}
export function parseVia(value: string): Via | undefined {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[^\]]+\]|[^\s;:]+)(?:\s*:\s*(\d+))?\s*(.*)$/.exec(value.trim());
  if (!m) return undefined;
  const via: Via = { transport: (m[1] ?? '').toUpperCase(), host: m[2] ?? '', params: parseParams(m[4] ?? '') };
  if (m[3]) {
    const port = Number(m[3]);
    if (port < 1 || port > 65535) return undefined;
    via.port = port;
  }
  return via;
}

export function formatVia(v: Via): string {
  let s = `SIP/2.0/${v.transport} ${v.host}${v.port ? ':' + v.port : ''}`;
  for (const [k, val] of v.params) s += val === '' ? `;${k}` : `;${k}=${val}`;
  return s;
}

/** Parses `;a=b;c` into a map (keys lower-case, valueless params map to ''). */
export function parseParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) out.set(p.toLowerCase(), '');
    else out.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
  }
  return out;
}

export interface NameAddr {
  display: string;
  uri: string;
  params: Map<string, string>;
}

/** name-addr (`"x" <sip:a@b>;tag=1`) or addr-spec (`sip:a@b;tag=1`, where params belong to the header). */
export function parseNameAddr(value: string): NameAddr | undefined {
  const v = value.trim();
  const lt = v.indexOf('<');
  if (lt >= 0) {
    const gt = v.indexOf('>', lt);
    if (gt < 0) return undefined;
    return { display: v.slice(0, lt).trim(), uri: v.slice(lt + 1, gt).trim(), params: parseParams(v.slice(gt + 1)) };
  }
  const semi = v.indexOf(';');
  const uri = semi < 0 ? v : v.slice(0, semi);
  if (!uri || /\s/.test(uri)) return undefined;
  return { display: '', uri, params: parseParams(semi < 0 ? '' : v.slice(semi)) };
}

export function tagOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const tag = parseNameAddr(value)?.params.get('tag');
  return tag || undefined;
}

export interface SipUri {
  scheme: string;
  user?: string;
  host: string;
  port?: number;
  params: Map<string, string>;
}
export function parseUri(uri: string): SipUri | undefined {
  const m = /^(sips?):(?:([^@;?]+)@)?(\[[^\]]+\]|[^:;?]+)(?::(\d{1,5}))?((?:;[^?]*)?)/i.exec(uri.trim());
  if (!m) return undefined;
  const out: SipUri = { scheme: (m[1] ?? 'sip').toLowerCase(), host: m[3] ?? '', params: parseParams(m[5] ?? '') };
  if (m[2]) out.user = m[2];
  if (m[4]) out.port = Number(m[4]);
  return out;
}

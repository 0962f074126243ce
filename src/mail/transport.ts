// SMTP delivery of one outbox row with nodemailer (pooled connections kept open, commands pipelined
// when the server offers PIPELINING), and how its failures are judged. The message is written here,
// whole, for both charsets: a text/plain mail needs none of nodemailer's MIME tree, which cost more
// CPU than the SMTP exchange itself.
import nodemailer from 'nodemailer';
import type { Config } from '../config.ts';
import { encodeIso2022jp, encodeIso2022jpHeader } from './iso2022jp.ts';
import type { OutboxRow } from './outbox.ts';

export type Transporter = ReturnType<typeof nodemailer.createTransport>;

/** The configured SMTP server, or the built-in catcher when smtp.url is unset. Pooled connections. */
export function createSmtpTransport(config: Config, maxConnections = config.mail.workers): Transporter {
  const timeouts = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };
  if (config.smtp.url) {
    const url = new URL(config.smtp.url);
    return nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port) || (url.protocol === 'smtps:' ? 465 : 25),
      secure: url.protocol === 'smtps:',
      auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
      pool: true,
      maxConnections,
      maxMessages: Infinity,
      ...timeouts,
    });
  }
  return catcherTransport(config.smtp.catcherListen, maxConnections);
}

export function catcherTransport(listen: { host: string; port: number }, maxConnections = 2): Transporter {
  return nodemailer.createTransport({
    host: listen.host, port: listen.port, secure: false, ignoreTLS: true, pool: true, maxConnections, maxMessages: Infinity,
    connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 15_000,
  });
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1) || 'localhost';
}

/**
 * One Message-ID per outbox row: should a lease ever expire mid-send and the row go out twice,
 * mail systems can still tell it is the same mail.
 */
function messageId(row: OutboxRow): string {
  return `<chakushin.${row.kind}.${row.id}@${domainOf(row.from_address)}>`;
}

/** A UTF-8 header value as RFC 2047 encoded words (B), each at most 75 characters, never splitting a character. */
function encodeUtf8Header(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const ch of value) {
    // 45 bytes of UTF-8 make 60 base64 characters: with "=?UTF-8?B?" and "?=" a word stays within 75.
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/** The whole message: text/plain, CRLF lines; UTF-8 in base64 (76-character lines), or ISO-2022-JP in 7bit. */
export function outboxMessage(row: OutboxRow, date: Date): Buffer {
  const jis = row.charset === 'iso-2022-jp';
  const body = row.body.replace(/\r?\n/g, '\r\n');
  const head = [
    `From: ${row.from_address}`,
    `To: ${row.to_address}`,
    `Subject: ${jis ? encodeIso2022jpHeader(row.subject) : encodeUtf8Header(row.subject)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId(row)}`,
    'MIME-Version: 1.0',
    `Content-Type: text/plain; charset=${jis ? 'ISO-2022-JP' : 'utf-8'}`,
    `Content-Transfer-Encoding: ${jis ? '7bit' : 'base64'}`,
  ].join('\r\n');
  const encoded = jis ? encodeIso2022jp(body) : Buffer.from(`${Buffer.from(body, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`, 'ascii');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'ascii'), encoded]);
}

/** A file a mail carries (the FAX's PDF when fax.attachPdf is on). */
export interface MailAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

export async function sendOutboxMail(transport: Transporter, row: OutboxRow, attachment?: MailAttachment): Promise<void> {
  const envelope = { from: row.from_address, to: [row.to_address] };
  if (!attachment) {
    await transport.sendMail({ envelope, raw: outboxMessage(row, new Date()) });
    return;
  }
  // With a file: multipart/mixed by nodemailer.
  if (row.charset === 'iso-2022-jp') {
    // The text part and the subject are encoded here (nodemailer has no ISO-2022-JP encoder).
    const text = Buffer.concat([
      Buffer.from('Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n', 'ascii'),
      encodeIso2022jp(row.body.replace(/\r?\n/g, '\r\n')),
    ]);
    await transport.sendMail({
      envelope, from: row.from_address, to: row.to_address, messageId: messageId(row),
      headers: { Subject: { prepared: true, value: encodeIso2022jpHeader(row.subject) } },
      attachments: [{ raw: text }, attachment],
    });
    return;
  }
  await transport.sendMail({
    envelope, from: row.from_address, to: row.to_address, subject: row.subject, text: row.body, messageId: messageId(row),
    textEncoding: 'base64', attachments: [attachment],
  });
}

/** A 5xx reply means the server refused the mail for good; anything else may pass later. */
export function isPermanent(err: unknown): boolean {
  const code = (err as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

export function describeSmtpError(err: unknown): string {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  return (e.response ?? [e.code, e.message].filter(Boolean).join(' ')).slice(0, 500) || String(err);
}

// SMTP delivery of one outbox row with nodemailer, and how its failures are judged.
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
      ...timeouts,
    });
  }
  return catcherTransport(config.smtp.catcherListen, maxConnections);
}

export function catcherTransport(listen: { host: string; port: number }, maxConnections = 2): Transporter {
  return nodemailer.createTransport({
    host: listen.host, port: listen.port, secure: false, ignoreTLS: true, pool: true, maxConnections,
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

/** ISO-2022-JP is built by hand: nodemailer has no encoder for it. 7bit, CRLF lines. */
function iso2022jpMessage(row: OutboxRow, date: Date): Buffer {
  const head = [
    `From: ${row.from_address}`,
    `To: ${row.to_address}`,
    `Subject: ${encodeIso2022jpHeader(row.subject)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId(row)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=ISO-2022-JP',
    'Content-Transfer-Encoding: 7bit',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'ascii'), encodeIso2022jp(row.body.replace(/\r?\n/g, '\r\n'))]);
}

/** A file a mail carries (the FAX's PDF when fax.attachPdf is on). */
export interface MailAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

export async function sendOutboxMail(transport: Transporter, row: OutboxRow, attachment?: MailAttachment): Promise<void> {
  const envelope = { from: row.from_address, to: [row.to_address] };
  if (row.charset === 'iso-2022-jp') {
    if (!attachment) {
      await transport.sendMail({ envelope, raw: iso2022jpMessage(row, new Date()) });
      return;
    }
    // multipart/mixed by nodemailer; the text part and the subject are encoded here (it has no ISO-2022-JP encoder).
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
    envelope,
    from: row.from_address,
    to: row.to_address,
    subject: row.subject,
    text: row.body,
    messageId: messageId(row),
    textEncoding: 'base64',
    ...(attachment ? { attachments: [attachment] } : {}),
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

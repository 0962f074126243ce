// Built-in SMTP catcher: a real SMTP server (npm smtp-server) used when no smtp.url is
// configured. Like a mail drop, it stores one .eml per recipient, with Return-Path and
// Delivered-To on top, under a directory that survives restarts.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  file: string;
  receivedAt: Date;
}

export interface SmtpCatcher {
  port: number;
  close(): Promise<void>;
  /** Stored messages, oldest first. */
  list(): Promise<CaughtMail[]>;
}

const MAX_SIZE = 1024 * 1024;

export async function listCaughtMails(dir: string): Promise<CaughtMail[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.eml'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  // Names start with a zero-padded millisecond time and a sequence: sorting them is chronological.
  names.sort();
  return Promise.all(names.map(async (n) => ({ file: path.join(dir, n), receivedAt: (await stat(path.join(dir, n))).mtime })));
}

export async function startSmtpCatcher(opts: { host: string; port: number; dir: string; logger: Logger }): Promise<SmtpCatcher> {
  const dir = path.resolve(opts.dir);
  await mkdir(dir, { recursive: true });
  const log = opts.logger.child({ part: 'smtp-catcher' });
  let seq = 0;

  async function store(raw: Buffer, from: string, to: string): Promise<void> {
    const name = `${String(Date.now()).padStart(15, '0')}-${String(seq++).padStart(6, '0')}-${randomBytes(4).toString('hex')}.eml`;
    const head = Buffer.from(`Return-Path: <${from}>\r\nDelivered-To: ${to}\r\n`, 'utf8');
    const tmp = path.join(dir, `.${name}.tmp`);
    // Written aside then renamed, so a reader never sees half a message.
    await writeFile(tmp, Buffer.concat([head, raw]));
    await rename(tmp, path.join(dir, name));
  }

  const server = new SMTPServer({
    name: 'chakushin-catcher',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: MAX_SIZE,
    closeTimeout: 500,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          callback(Object.assign(new Error('message too large'), { responseCode: 552 }));
          return;
        }
        const raw = Buffer.concat(chunks);
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        Promise.all(session.envelope.rcptTo.map((r) => store(raw, from, r.address)))
          .then(() => callback())
          .catch((err: Error) => {
            log.error({ err: err.message }, 'cannot store caught mail');
            callback(Object.assign(new Error('cannot store message'), { responseCode: 451 }));
          });
      });
    },
  });
  // smtp-server re-emits its listener's errors on itself: a failed listen rejects here, and only
  // errors after that (a client dropping mid-session) are logged.
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.warn({ err: err.message }, 'smtp catcher connection error'));
  const port = (server.server.address() as AddressInfo).port;
  log.info({ host: opts.host, port, dir }, 'smtp catcher listening');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    list: () => listCaughtMails(dir),
  };
}

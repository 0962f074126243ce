// Reads what the SMTP catcher received, decoded by mailparser as a recipient's mail client would.
import { readFile } from 'node:fs/promises';
import { simpleParser } from 'mailparser';
import pino from 'pino';
import type { SmtpCatcher } from '../../src/mail/catcher.ts';
import { waitFor } from '../support/wait.ts';

/** Where caught mails are read from: a catcher of the test's own, or the one a service runs. */
export type Mailbox = Pick<SmtpCatcher, 'list'>;

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface ReceivedMail {
  deliveredTo: string;
  from: string;
  subject: string;
  text: string;
  contentType: string;
  messageId: string;
}

export async function readMails(catcher: Mailbox): Promise<ReceivedMail[]> {
  const files = await catcher.list();
  return Promise.all(
    files.map(async ({ file }) => {
      const m = await simpleParser(await readFile(file));
      const header = (k: string) => m.headerLines.find((h) => h.key === k)?.line.replace(/^[^:]*:\s*/, '') ?? '';
      const ct = m.headers.get('content-type') as { value: string; params: Record<string, string> } | undefined;
      return {
        deliveredTo: header('delivered-to'),
        from: m.from?.text ?? '',
        subject: m.subject ?? '',
        text: m.text ?? '',
        contentType: ct ? `${ct.value}; charset=${ct.params.charset ?? ''}`.toLowerCase() : '',
        messageId: m.messageId ?? '',
      };
    }),
  );
}

/** Waits until `count` mails to `address` (that `also` accepts) are in, or the time is up; returns those there are. */
export function mailsTo(box: Mailbox, address: string, count: number, timeoutMs = 15_000, also: (m: ReceivedMail) => boolean = () => true): Promise<ReceivedMail[]> {
  return waitFor(async () => (await readMails(box)).filter((m) => m.deliveredTo === address && also(m)), (got) => got.length >= count, timeoutMs, 100);
}

/** Japan time as a 着信 mail writes it (yyyy/mm/dd hh:mm:ss), written out independently of the code under test. */
export function jst(at: Date): string {
  const d = new Date(at.getTime() + 9 * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** Waits until the catcher holds at least `count` mails (or the time runs out) and returns them. */
export async function waitForMails(catcher: SmtpCatcher, count: number, timeoutMs = 15_000): Promise<ReceivedMail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = await catcher.list();
    if (files.length >= count || Date.now() > deadline) return readMails(catcher);
    await new Promise((r) => setTimeout(r, 50));
  }
}

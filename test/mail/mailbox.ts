// Reads what the SMTP catcher received, decoded by mailparser as a recipient's mail client would.
import { readFile } from 'node:fs/promises';
import { simpleParser } from 'mailparser';
import pino from 'pino';
import type { SmtpCatcher } from '../../src/mail/catcher.ts';

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface ReceivedMail {
  deliveredTo: string;
  from: string;
  subject: string;
  text: string;
  contentType: string;
  messageId: string;
}

export async function readMails(catcher: SmtpCatcher): Promise<ReceivedMail[]> {
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

/** Waits until the catcher holds at least `count` mails (or the time runs out) and returns them. */
export async function waitForMails(catcher: SmtpCatcher, count: number, timeoutMs = 15_000): Promise<ReceivedMail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = await catcher.list();
    if (files.length >= count || Date.now() > deadline) return readMails(catcher);
    await new Promise((r) => setTimeout(r, 50));
  }
}

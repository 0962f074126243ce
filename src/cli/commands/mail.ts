import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { UsageError, type Command } from '../command.ts';
import { parseArgs } from '../args.ts';
import { isNationalNumber } from '../../domain/phone-number.ts';
import { tokyoTime } from '../../mail/format.ts';
import type { SmtpCatcher } from '../../mail/catcher.ts';
import type { OutboxRow } from '../../mail/outbox.ts';
import type { Config } from '../../config.ts';

const STATES = ['pending', 'sent', 'failed'] as const;

function outboxLine(r: OutboxRow): string {
  const when = r.state === 'sent' ? `sent ${tokyoTime(r.sent_at!)}` : r.state === 'pending' ? `next ${tokyoTime(r.next_attempt_at)}` : 'failed';
  const why = r.last_error ? `  (${r.last_error})` : '';
  return `#${r.id} ${r.kind.padEnd(6)} ${r.state.padEnd(7)} ${tokyoTime(r.created_at)} → ${r.to_address}  ${r.subject}  attempts=${r.attempts} ${when}${why}`;
}

export function caughtDir(config: Config): string {
  return path.join(config.varDir, 'mail');
}

async function showCaught(config: Config, limit: number): Promise<void> {
  const [{ simpleParser }, { listCaughtMails }] = await Promise.all([import('mailparser'), import('../../mail/catcher.ts')]);
  const files = (await listCaughtMails(caughtDir(config))).slice(-limit);
  console.log(`\nCaught by the built-in SMTP catcher (${caughtDir(config)}), oldest first:`);
  if (!files.length) console.log('  none');
  for (const f of files) {
    const m = await simpleParser(await readFile(f.file));
    const to = m.headerLines.find((h) => h.key === 'delivered-to')?.line.replace(/^[^:]*:\s*/, '') ?? '';
    console.log(`\n== ${path.basename(f.file)}  ${tokyoTime(f.receivedAt)}  To: ${to}\nSubject: ${m.subject ?? ''}\n\n${(m.text ?? '').trimEnd()}`);
  }
}

async function list(args: string[]): Promise<number> {
  const { flags } = parseArgs(args, { values: ['state', 'limit'], booleans: ['json'] });
  const state = flags.get('state') as string | undefined;
  if (state !== undefined && !STATES.includes(state as never)) throw new UsageError(`--state: expected pending, sent or failed, got "${state}"`);
  const limitText = (flags.get('limit') as string | undefined) ?? '20';
  if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new UsageError(`--limit: expected a positive whole number, got "${limitText}"`);
  const limit = Number(limitText);
  const [{ withDatabase }, { listOutbox }] = await Promise.all([import('../context.ts'), import('../../mail/outbox.ts')]);
  return withDatabase(async (db, config) => {
    const rows = await listOutbox(db.pool, { state: state as OutboxRow['state'] | undefined, limit });
    if (flags.has('json')) {
      for (const r of rows) console.log(JSON.stringify(r));
      return 0;
    }
    console.log(`Outbox${state ? ` (${state})` : ''}, newest first:`);
    if (!rows.length) console.log('  empty');
    for (const r of rows) console.log(`  ${outboxLine(r)}`);
    if (!config.smtp.url) await showCaught(config, limit);
    return 0;
  });
}

async function sendTest(args: string[]): Promise<number> {
  const { flags } = parseArgs(args, { values: ['number', 'address'] });
  const number = flags.get('number');
  const address = flags.get('address');
  if (typeof number !== 'string' || !isNationalNumber(number)) throw new UsageError('--number: a national number (0 and 9–10 digits) is required');
  if (typeof address !== 'string') throw new UsageError('--address is required');
  const [{ withDatabase }, { createLogger }, { startSmtpCatcher }, { deliverNow, queueTestMail, TestMailError }, { createSmtpTransport }] = await Promise.all([
    import('../context.ts'), import('../../logger.ts'), import('../../mail/catcher.ts'), import('../../mail/test-mail.ts'), import('../../mail/transport.ts'),
  ]);
  return withDatabase(async (db, config) => {
    const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr as never);
    let catcher: SmtpCatcher | undefined;
    if (!config.smtp.url) {
      // No running service means no catcher listening: bring one up for this mail.
      catcher = await startSmtpCatcher({ ...config.smtp.catcherListen, dir: caughtDir(config), logger }).catch(() => undefined);
    }
    const transport = createSmtpTransport(config, 1);
    try {
      const id = await queueTestMail(db.pool, config, number, address);
      const row = await deliverNow(db.pool, transport, id);
      console.log(outboxLine(row));
      return row.state === 'sent' ? 0 : 1;
    } catch (err) {
      if (err instanceof TestMailError) throw new UsageError(err.message);
      throw err;
    } finally {
      transport.close();
      await catcher?.close();
    }
  });
}

export const mailCommand: Command = {
  name: 'mail',
  summary: '着信お知らせメール outbox (pending/sent/failed), caught mails, and 送信テスト',
  help: `Usage:
  chakushin mail [--state pending|sent|failed] [--limit N] [--json]
      Lists the mail outbox, newest first: state, attempts, next attempt or sent time, last error.
      When no smtp.url is configured, also prints the mails the built-in SMTP catcher stored
      under <varDir>/mail/ (decoded).
  chakushin mail test --number N --address A
      Sends a 送信テスト mail for number N (a number with 着信お知らせメール) to address A and
      prints the outcome. Exit code 0 when the SMTP server accepted it.`,
  async run(args) {
    if (args[0] === 'test') return sendTest(args.slice(1));
    return list(args);
  },
};

// `chakushin mail` and `chakushin mail test` against a real database and the built-in catcher.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mailCommand } from '../../src/cli/commands/mail.ts';
import { UsageError } from '../../src/cli/command.ts';
import { listCaughtMails } from '../../src/mail/catcher.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { provision, subscriber } from '../notify/fixtures.ts';

let db: TestDatabase;
let varDir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-cli-mail-'));
  process.env.DATABASE_URL = db.url;
  process.env.VAR_DIR = varDir;
  process.env.SMTP_CATCHER_LISTEN = `127.0.0.1:${await freePort()}`;
  process.env.LOG_LEVEL = 'silent';
  await provision(db.pool, subscriber({ number: '0311112222', region: 'east' }));
});
afterAll(async () => {
  await db.drop();
  await rm(varDir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    return { code: await mailCommand.run(args), out: lines.join('\n') };
  } finally {
    spy.mockRestore();
  }
}

describe('chakushin mail', () => {
  it('sends a 送信テスト mail through the catcher and lists it', async () => {
    const sent = await run(['test', '--number', '0311112222', '--address', 'me@example.jp']);
    expect(sent.code).toBe(0);
    expect(sent.out).toMatch(/^#\d+ test {3}sent {4}.* → me@example.jp {2}送信テスト（0311112222） {2}attempts=1 sent /);
    expect(await listCaughtMails(path.join(varDir, 'mail'))).toHaveLength(1);

    const listed = await run([]);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain('→ me@example.jp  送信テスト（0311112222）');
    expect(listed.out).toContain('To: me@example.jp\nSubject: 送信テスト（0311112222）\n\nこのメールは「着信お知らせメール」の送信テストです。\n電話番号:0311112222');
    expect(listed.out).toContain('NTT東日本　「着信お知らせメール」');
    expect((await run(['--state', 'failed'])).out).toContain('Outbox (failed), newest first:\n  empty');
  });

  it('refuses a bad address or an unknown number', async () => {
    await expect(run(['test', '--number', '0311112222', '--address', 'a@@b'])).rejects.toThrow(UsageError);
    await expect(run(['test', '--number', '0399999999', '--address', 'a@example.jp'])).rejects.toThrow(/not a provisioned number/);
    await expect(run(['--state', 'lost'])).rejects.toThrow(UsageError);
  });
});

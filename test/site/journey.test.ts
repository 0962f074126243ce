// The whole journey on one machine, every part real: SIPp calls the temp-password IVR → the browser
// logs in with that temp password → forced パスワード変更 → adds a destination and sends a test mail
// (caught by the SMTP catcher) → 開始 → SIPp calls the line, unanswered → the 着信 mail arrives.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCaughtMails } from '../../src/mail/catcher.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { jst, mailsTo, type ReceivedMail } from '../mail/mailbox.ts';
import { startIvrHarness, type IvrHarness } from '../ivr/harness.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, sippSummary, startSipp } from '../support/sipp.ts';
import { changePassword, heading, logIn } from '../support/site.ts';

const LINE = '0619990001';
const CALLER = '0612345678';
const ACCESS_WEST = '0664806430';
const ADDRESS = 'journey@example.jp';
const NEW_PASSWORD = 'k7q2m9x4';
const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);

let h: IvrHarness;
let b: TestBrowser;
let linePort: number;
beforeAll(async () => {
  h = await startIvrHarness();
  linePort = await freePort('udp');
  await applyProvisioning(h.db.pool, {
    contracts: [{ id: 'JOURNEY', region: 'west', pattern: 'A', authUnit: 'number', numbers: [
      { number: LINE, role: 'main', services: ['chakushin_mail'], target: `sip:${LINE}@127.0.0.1:${linePort}` },
    ] }],
  });
  b = await openBrowser('desktop');
});
afterAll(async () => {
  await b?.close();
  await h?.stop();
});

/** The mails to `address` with `subject` in the service's own catcher, once there is one. */
function mailsWith(address: string, subject: string): Promise<ReceivedMail[]> {
  const dir = h.service.smtpCatcher!.dir;
  return mailsTo({ list: () => listCaughtMails(dir) }, address, 1, 20_000, (m) => m.subject === subject);
}

describe('journey: IVR → site → 着信お知らせメール', () => {
  it('a subscriber sets a temp password by phone, sets the service up on the site, and is mailed the next unanswered call', async () => {
    // 1. The IVR (回線単位, temp password 12345678 as the scenario keys it).
    const { callId } = await h.call('ivr-a-line.xml', { caller: LINE, dialled: ACCESS_WEST });
    expect(await h.ivrCall(callId)).toMatchObject({ outcome: 'completed', unit: 'line', target: LINE });

    // 2. Log in with it on the site the service serves; a password must be set first.
    const url = `http://127.0.0.1:${h.service.sitePort}`;
    const { page } = b;
    await logIn(page, url, LINE, '12345678');
    expect(await heading(page)).toBe('パスワード変更');
    await changePassword(page, '12345678', NEW_PASSWORD);
    expect(await page.getByRole('status').textContent()).toBe('パスワードを変更しました。');
    // The temp password's 回線単位 is now the contract's.
    expect((await h.db.pool.query("select auth_unit from contract where id = 'JOURNEY'")).rows[0].auth_unit).toBe('line');

    // 3. A destination, checked with 送信テスト1, then saved.
    await page.getByRole('link', { name: 'サービス選択' }).click();
    await page.getByRole('link', { name: '着信お知らせメール' }).click();
    await page.getByRole('link', { name: '送信先メールアドレス設定' }).click();
    await page.getByLabel('送信先メールアドレス1').fill(ADDRESS);
    await page.getByRole('checkbox', { name: '送信1' }).check();
    await page.getByRole('button', { name: '送信テスト1' }).click();
    expect(await page.getByRole('status').textContent()).toContain('送信テストメールを送信しました');
    const [test] = await mailsWith(ADDRESS, `送信テスト（${LINE}）`);
    expect(test, 'test mail caught').toBeDefined();
    expect(test!.text).toContain(`電話番号:${LINE}`);
    await page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await page.getByRole('status').textContent()).toBe('設定しました。');

    // 4. 開始.
    await page.getByRole('link', { name: '戻る' }).click();
    await page.getByRole('link', { name: 'サービス開始／停止' }).click();
    await page.getByRole('radio', { name: '開始' }).check();
    await page.getByRole('button', { name: '設定' }).click();
    expect(await page.getByRole('status').textContent()).toBe('設定しました。');

    // 5. A call to the line rings 2 s unanswered; the caller gives up.
    const line = await startSipp({ scenario: SCEN('notify-uas-ring'), localPort: linePort, calls: 1, timeoutMs: 30_000 });
    const caller = await runSipp({
      scenario: SCEN('notify-uac-cancel'), remote: { port: h.service.sipAddress!.port }, service: LINE, calls: 1,
      keys: { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Journey: 1', hdr2: 'X-Journey: 2' }, extraArgs: ['-d', '2000'], timeoutMs: 30_000,
    });
    expect(caller.exitCode, sippSummary(caller)).toBe(0);
    const lineResult = await line.done;
    expect(lineResult.exitCode, sippSummary(lineResult)).toBe(0);

    const subject = `着信通知（${LINE}着）`;
    const [mail] = await mailsWith(ADDRESS, subject);
    expect(mail, '着信 mail caught').toBeDefined();
    const { rows } = await h.db.pool.query('select invite_at from incoming_call where called_number = $1', [LINE]);
    expect(mail!.from).toBe('number_info@hikari.ntt-west.net');
    expect(mail!.text).toBe(
      [
        `着信日時:${jst(rows[0].invite_at)}`, `発信電話番号:${CALLER}`, '非通知理由:', '呼出時間:2秒', '着信状態:応答なし', '',
        '------', 'NTT西日本　「着信お知らせメール」', '※各種設定は、ひかり電話設定サイトから行ってください。', 'https://www.hikari.ntt-west.net',
        '※本メールは送信専用のため返信できません。', '',
      ].join('\n'),
    );

    // Nothing typed as a password reached a log line; every step is in the audit log.
    expect(h.linesContaining([NEW_PASSWORD])).toEqual([]);
    const { rows: audit } = await h.db.pool.query('select action from audit_log where subject = $1 order by id', [LINE]);
    expect(audit.map((r) => r.action)).toEqual(
      expect.arrayContaining(['temp_password.set', 'login', 'password.change', 'chakushin_mail.test_mail', 'chakushin_mail.destinations', 'chakushin_mail.start']),
    );
  });

  it('the site port serves the site only; /healthz and /metrics stay on the operations port', async () => {
    const site = `http://127.0.0.1:${h.service.sitePort}`;
    expect((await fetch(`${site}/healthz`)).status).toBe(404);
    expect((await fetch(`${site}/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${h.service.httpPort}/healthz`)).status).toBe(200);
    const login = await fetch(`${site}/`);
    expect(login.status).toBe(200);
    expect(login.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});

// The README's commands work when pasted as written: the ```sh blocks of "First walk", "Operating
// it", "Testing with SIPp" and "FAXお知らせメール" run unchanged, in the README's order, against one
// `npm start` (test/support/readme-walk.ts), in a network namespace of its own so the default ports
// the README shows are free, with a scratch VAR_DIR. Checked: the IVR sets the temp password, the
// site takes it at login (パスワード変更 first), the 着信 is mailed once; every CLI command listed
// answers (and every command the CLI has is listed); the IVR call by phone number; the ボイスワープ
// forward reaches the 転送先 and is mailed as 転送, the phone menu changes the 転送条件; the FAX is
// received and mailed; and the stop leaves nothing.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sectionBlocks, walkSections } from '../support/readme-walk.ts';

const root = path.resolve(import.meta.dirname, '../..');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-readme-walk-'));
  // As root PostgreSQL runs as its own user, which must reach the folder.
  await chmod(dir, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Block {
  code: number;
  output: string;
  seconds: number;
}
interface Mail {
  subject: string;
  text: string;
}
interface Walk {
  error?: string;
  ivr: Block;
  login: { status: number; location: string | null; page: string };
  call: Block;
  mails: Mail[];
  operating: Block;
  mailsAfterOperating: Mail[];
  sippIvr: Block;
  warp: Block;
  warpMails: Mail[];
  fax: Block;
  faxMails: Mail[];
  written: string[];
  exitCode: number | null;
  log: string;
  leftRunning: string[];
}

function walk(): Promise<{ walk: Walk; stderr: string }> {
  return new Promise((resolve, reject) => {
    const driver = path.join(root, 'test/support/readme-walk.ts');
    const child = spawn('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$0" --import tsx "$1" "$2"', process.execPath, driver, path.join(dir, 'var')], {
      cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ walk: JSON.parse(last) as Walk, stderr });
      } catch {
        reject(new Error(`the walk printed no result (exit ${code}):\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`));
      }
    });
  });
}

it('README: the commands of First walk, Operating it, Testing with SIPp and FAXお知らせメール, pasted as written, do what the README says', async () => {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const sections = walkSections(readme);
  // A block removed (or turned into a template) fails here, before the walk.
  expect(Object.fromEntries(Object.entries(sections).map(([k, v]) => [k, v.length]))).toEqual({ firstWalk: 2, operating: 1, sipp: 2, fax: 1 });
  const { walk: w, stderr } = await walk();
  const context = `${JSON.stringify({ ...w, log: undefined }, null, 1).slice(0, 12000)}\n${w.log?.slice(-3000)}\n${stderr.slice(-2000)}`;
  expect(w.error, context).toBeUndefined();

  // First walk: the temp password by phone, the login with it, a 着信 mailed once.
  expect(w.ivr.code, w.ivr.output).toBe(0);
  expect(w.ivr.output).toMatch(/0611112222: realm=site unit=line state=valid/);
  expect(w.login.status, context).toBe(303);
  expect(w.login.location).toBe('/password');
  expect(w.login.page).toContain('現在のパスワード');
  expect(w.call.code, w.call.output).toBe(0);
  expect(w.call.output).toContain('着信通知（0611112222着）');
  expect(w.mails, context).toHaveLength(1);
  expect(w.mails[0]!.subject).toBe('着信通知（0611112222着）');
  expect(w.mails[0]!.text).toMatch(/^発信電話番号:0612345678$/m);
  expect(w.mails[0]!.text).toMatch(/^着信状態:通話$/m);

  // Operating it: every line answered (bash -e stops at the first that fails), each as it should.
  const op = w.operating.output;
  expect(w.operating.code, op).toBe(0);
  expect(op).toContain('examples/subscribers.json: valid');
  expect(op).toContain('provisioned 1 contract(s), 3 number(s) from examples/subscribers.json');
  expect(op).toMatch(/ ivr +callId=\S+ accessNumber=0664806430 caller=0611112222 pattern=A unit=line target=0611112222 outcome=completed/);
  expect(op).toMatch(/ notify callId=\S+ called=0611112222 caller=0612345678 finalStatus=200 status=通話/);
  expect(op).toMatch(/0611112222: realm=site unit=line state=valid/);
  expect(op).toContain('0611114444: 開始 転送条件=無応答時転送 転送先=09012345678 呼出秒数=15');
  expect(op).toContain('schema is up to date');
  expect(op).toMatch(/login 0611112222 from=127\.0\.0\.1/);
  expect(op).toContain('examples/line-info.json: valid');
  expect(op).toContain('provisioned 1 provider(s), 1 line(s) from examples/line-info.json');
  expect(op).toMatch(/^config: \{"provider":"W0099","sha256":"[0-9a-f]{64}"\}$/m);
  expect(op).toContain('FAX receptions of 0611113333 (0)');
  expect(op).toContain('no probed lines');
  expect(op).toContain('no 故障 or 回復 recorded');
  expect(w.mailsAfterOperating.map((m) => m.subject).sort(), context).toEqual(['着信通知（0611112222着）', '送信テスト（0611112222）']);
  // Every command `chakushin help` lists is shown in the section (worker is only started by start).
  const commands = [...op.slice(op.indexOf('Commands:'), op.indexOf('Run `chakushin help')).matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]!);
  expect(commands.length).toBeGreaterThan(10);
  const section = readme.slice(readme.indexOf('\n## Operating it\n'), readme.indexOf('\n## Configuration\n'));
  expect(commands.filter((c) => c !== 'worker' && !section.includes(`npx chakushin ${c}`))).toEqual([]);

  // Testing with SIPp: the IVR call for 0611113333 (電話番号単位), then ボイスワープ.
  expect(w.sippIvr.code, w.sippIvr.output).toBe(0);
  expect(w.sippIvr.output).toMatch(/ ivr +callId=\S+ accessNumber=0664806430 caller=0611112222 pattern=A unit=number target=0611113333 outcome=completed/);
  // The caller's SIPp exits 0 only if answered, and only the 転送先 (which takes an INVITE with
  // Diversion only) answers 0611116666; then the phone menu's change is what the CLI reads.
  expect(w.warp.code, w.warp.output).toBe(0);
  expect(w.warp.output).toContain('0611116666: 開始 転送条件=無応答時転送 転送先=09012345678');
  expect(w.warpMails, context).toHaveLength(1);
  expect(w.warpMails[0]!.subject).toBe('着信通知（0611116666着）');
  expect(w.warpMails[0]!.text).toMatch(/^発信電話番号:0612345678$/m);
  expect(w.warpMails[0]!.text).toMatch(/^着信状態:転送$/m);

  // FAXお知らせメール: sent, received whole, listed, mailed.
  expect(w.fax.code, w.fax.output).toBe(0);
  expect(w.fax.output).toMatch(/SIP 200, G\.711: 1 page\(s\) sent; T\.30 0 OK/);
  expect(w.fax.output).toMatch(/FAX receptions of 0611115555 \(1\)[\s\S]*0612345678 1p .*正常に受信しました/);
  expect(w.faxMails, context).toHaveLength(1);
  expect(w.faxMails[0]!.subject).toBe('FAX受信通知（0611115555着）');
  expect(w.faxMails[0]!.text).toMatch(/^ページ数:1$/m);
  expect(w.faxMails[0]!.text).toMatch(/^受信結果:正常に受信しました$/m);

  expect(w.exitCode, w.log).toBe(0);
  expect(w.leftRunning).toEqual([]);
}, 300_000);

it('README: the provisioning example is examples/subscribers.json, the file the walk loads', async () => {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Provisioning format'));
  const shown = /```json\n([\s\S]*?)```/.exec(section)![1]!;
  expect(JSON.parse(shown)).toEqual(JSON.parse(await readFile(path.join(root, 'examples/subscribers.json'), 'utf8')));
});

it('README: every ```sh block is one the walk runs, but The two commands (npm test is the suite itself); templates are ```text', async () => {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  expect(sectionBlocks(readme, 'The two commands')).toHaveLength(1);
  const walked = Object.values(walkSections(readme)).flat().length;
  expect([...readme.matchAll(/^ *```sh$/gm)].length).toBe(1 + walked);
});

it('README: the 回線情報通知 provisioning example is examples/line-info.json, the file Operating it loads', async () => {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## 回線情報通知機能'));
  const shown = /```json\n([\s\S]*?)```/.exec(section)![1]!;
  expect(JSON.parse(shown)).toEqual(JSON.parse(await readFile(path.join(root, 'examples/line-info.json'), 'utf8')));
});

it('scenario headers: a hand run of a scenario that presses keys with sip-tester\'s captures goes through npm run sipp', async () => {
  const dir = path.join(root, 'test/sipp');
  const wrong: string[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.xml'))) {
    const xml = await readFile(path.join(dir, name), 'utf8');
    const header = xml.slice(0, xml.indexOf('-->'));
    const handRuns = header.split('\n').filter((l) => /^\s*(npm run sipp -- |sipp )/.test(l));
    if (/^(ivr-|notify-)/.test(name) && !handRuns.length) wrong.push(`${name}: no hand-run command`);
    if (xml.includes('/usr/share/sip-tester/dtmf_2833_')) wrong.push(...handRuns.filter((l) => !l.trim().startsWith('npm run sipp -- ')).map((l) => `${name}: ${l.trim()}`));
  }
  expect(wrong).toEqual([]);
});

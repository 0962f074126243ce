// The README's "First walk" works when pasted as written: its ```sh blocks run unchanged against
// `npm start` (test/support/readme-walk.ts), in a network namespace of its own so the default ports
// the README shows are free, with a scratch VAR_DIR. Checked: the IVR sets the temp password, the
// site takes it at login (パスワード変更 first), the 着信 is mailed once, and the stop leaves nothing.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { walkBlocks } from '../support/readme-walk.ts';

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

interface Walk {
  error?: string;
  blocks: number;
  ivr: { code: number; output: string };
  login: { status: number; location: string | null; page: string };
  call: { code: number; output: string };
  mails: { subject: string; text: string }[];
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

it('README: the First walk\'s commands, pasted as written, set a temp password, log in and mail a 着信', async () => {
  expect(walkBlocks(await readFile(path.join(root, 'README.md'), 'utf8'))).toHaveLength(2);
  const { walk: w, stderr } = await walk();
  const context = `${JSON.stringify(w, null, 1).slice(0, 8000)}\n${stderr.slice(-2000)}`;
  expect(w.error, context).toBeUndefined();
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
  expect(w.exitCode, w.log).toBe(0);
  expect(w.leftRunning).toEqual([]);
}, 300_000);

it('README: the provisioning example is examples/subscribers.json, the file the walk loads', async () => {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Provisioning format'));
  const shown = /```json\n([\s\S]*?)```/.exec(section)![1]!;
  expect(JSON.parse(shown)).toEqual(JSON.parse(await readFile(path.join(root, 'examples/subscribers.json'), 'utf8')));
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

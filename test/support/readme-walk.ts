// The README's "First walk", run as written: `npm start` as a person starts it, then each ```sh block
// of that section given to bash unchanged, with the browser's step (the login with the temp password)
// done over HTTP between them. The commands use the default ports, so this runs in a network
// namespace of its own (test/ci/readme-walk.test.ts starts it with `unshare --net`); VAR_DIR keeps
// the data in a scratch folder. Prints one JSON line of what it saw; the test judges it.
//   node --import tsx test/support/readme-walk.ts VAR_DIR
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { leftRunning, npmStart } from './npm-start.ts';

const root = path.resolve(import.meta.dirname, '../..');
const SITE = 'http://127.0.0.1:8000';

/** The ```sh blocks of the README section `## First walk`, in order. */
export function walkBlocks(readme: string): string[] {
  const start = readme.indexOf('\n## First walk\n');
  if (start < 0) throw new Error('README has no "## First walk" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** A block given to bash as pasted: stops at the first command that fails. */
function bash(block: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-e', '-c', block], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const deadline = setTimeout(() => child.kill('SIGKILL'), 180_000);
    // 'exit', not 'close': SIPp started with -bg keeps the pipes open until its call is over.
    child.once('exit', (code) => {
      clearTimeout(deadline);
      setTimeout(() => resolve({ code, output }), 200);
    });
  });
}

/** Step 2 of the walk, as a browser does it: the login form, then ログイン with the temp password. */
async function logIn(number: string, password: string): Promise<{ status: number; location: string | null; page: string }> {
  const form = await fetch(`${SITE}/`);
  const cookies = form.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const login = await fetch(`${SITE}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
    body: new URLSearchParams({ _csrf: csrf, number, password }).toString(),
  });
  cookies.push(...login.headers.getSetCookie().map((c) => c.split(';')[0]));
  const location = login.headers.get('location');
  const next = location ? await fetch(new URL(location, SITE), { headers: { cookie: cookies.join('; ') } }) : undefined;
  return { status: login.status, location, page: next ? await next.text() : '' };
}

/** The mails to a@example.jp the built-in SMTP catcher keeps under VAR_DIR/mail, decoded. */
async function caughtMails(varDir: string): Promise<{ subject: string; text: string }[]> {
  const dir = path.join(varDir, 'mail');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.eml'));
  const mails = await Promise.all(names.map(async (n) => simpleParser(await readFile(path.join(dir, n)))));
  return mails.filter((m) => m.headerLines.some((h) => h.line === 'Delivered-To: a@example.jp')).map((m) => ({ subject: m.subject ?? '', text: m.text ?? '' }));
}

async function main(varDir: string) {
  const env = { VAR_DIR: varDir };
  const blocks = walkBlocks(await readFile(path.join(root, 'README.md'), 'utf8'));
  const service = npmStart(env);
  const result: Record<string, unknown> = { blocks: blocks.length };
  try {
    await service.healthy('127.0.0.1:8080');
    result.ivr = await bash(blocks[0] ?? '', env);
    result.login = await logIn('0611112222', '12345678');
    result.call = await bash(blocks[1] ?? '', env);
    // Delivery is asynchronous: wait for the first mail, then a moment more in case a second follows.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !(await caughtMails(varDir)).length) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 1_000));
    result.mails = await caughtMails(varDir);
  } finally {
    service.signalGroup('SIGINT');
    result.exitCode = await service.exited;
    result.log = service.log().slice(-6000);
    await new Promise((r) => setTimeout(r, 500));
    result.leftRunning = leftRunning(varDir);
    for (const line of result.leftRunning as string[]) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
  }
  console.log(JSON.stringify(result));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(path.resolve(process.argv[2]!)).catch((err) => {
    console.log(JSON.stringify({ error: String(err?.stack ?? err) }));
    process.exit(1);
  });
}

// The README read top to bottom and pasted as written: `npm start` as a person starts it, then each
// ```sh block of "First walk" given to bash unchanged, with the browser's step (the login with the
// temp password) done over HTTP between them, then the blocks of "Operating it", "Testing with SIPp"
// and "FAXお知らせメール", in the README's order, against the same service. It runs with
// NOTIFY_NEXT_HOP=sip:127.0.0.1:5090, as the ボイスワープ block asks; the First walk does not reach the
// next hop (0611112222 has its own SIP target), so its results are those of a plain `npm start`.
// The commands use the default ports, so this runs in a network namespace of its own
// (test/ci/readme-walk.test.ts starts it with `unshare --net`); VAR_DIR keeps the data in a scratch
// folder; the files the blocks write into the checkout (fax.json, doc.tif, …) are removed after.
// Prints one JSON line of what it saw; the test judges it.
//   node --import tsx test/support/readme-walk.ts VAR_DIR
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { leftRunning, npmStart } from './npm-start.ts';

const root = path.resolve(import.meta.dirname, '../..');
const SITE = 'http://127.0.0.1:8000';

/** The ```sh blocks of the README section `## <heading>` (its subsections included), in order. */
export function sectionBlocks(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** The blocks the walk runs, by section; the test checks how many each has. */
export function walkSections(readme: string) {
  return {
    firstWalk: sectionBlocks(readme, 'First walk'),
    operating: sectionBlocks(readme, 'Operating it'),
    sipp: sectionBlocks(readme, 'Testing with SIPp'),
    fax: sectionBlocks(readme, 'FAXお知らせメール'),
  };
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

/** The mails to `address` the built-in SMTP catcher keeps under VAR_DIR/mail, decoded. */
async function caughtMails(varDir: string, address: string): Promise<{ subject: string; text: string }[]> {
  const dir = path.join(varDir, 'mail');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.eml'));
  const mails = await Promise.all(names.map(async (n) => simpleParser(await readFile(path.join(dir, n)))));
  return mails.filter((m) => m.headerLines.some((h) => h.line === `Delivered-To: ${address}`)).map((m) => ({ subject: m.subject ?? '', text: m.text ?? '' }));
}

/**
 * Delivery is asynchronous: waits until `count` mails to `address` are caught (30 s at most), then
 * a moment more in case another follows, and returns them.
 */
async function mailsTo(varDir: string, address: string, count: number) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await caughtMails(varDir, address)).length < count) await new Promise((r) => setTimeout(r, 250));
  await new Promise((r) => setTimeout(r, 1_000));
  return caughtMails(varDir, address);
}

async function main(varDir: string) {
  const env = { VAR_DIR: varDir };
  const blocks = walkSections(await readFile(path.join(root, 'README.md'), 'utf8'));
  const before = new Set(await readdir(root));
  const service = npmStart({ ...env, NOTIFY_NEXT_HOP: 'sip:127.0.0.1:5090' });
  const result: Record<string, unknown> = {};
  const run = async (name: string, block: string | undefined) => {
    const started = Date.now();
    result[name] = { ...(await bash(block ?? 'exit 97', env)), seconds: Math.round((Date.now() - started) / 1000) };
  };
  try {
    await service.healthy('127.0.0.1:8080');
    await run('ivr', blocks.firstWalk[0]);
    result.login = await logIn('0611112222', '12345678');
    await run('call', blocks.firstWalk[1]);
    result.mails = await mailsTo(varDir, 'a@example.jp', 1);
    await run('operating', blocks.operating[0]);
    result.mailsAfterOperating = await mailsTo(varDir, 'a@example.jp', 2);
    await run('sippIvr', blocks.sipp[0]);
    await run('warp', blocks.sipp[1]);
    result.warpMails = await mailsTo(varDir, 'warp@example.jp', 1);
    await run('fax', blocks.fax[0]);
    result.faxMails = await mailsTo(varDir, 'fax@example.jp', 1);
  } finally {
    service.signalGroup('SIGINT');
    result.exitCode = await service.exited;
    result.log = service.log().slice(-6000);
    await new Promise((r) => setTimeout(r, 500));
    result.leftRunning = leftRunning(varDir);
    for (const line of result.leftRunning as string[]) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    // What the blocks wrote into the checkout, as a reader's paste does (fax.json, doc.tif, …).
    const pasted = Object.values(blocks).flat().join('\n');
    const written = (await readdir(root)).filter((n) => !before.has(n) && pasted.includes(n));
    await Promise.all(written.map((n) => rm(path.join(root, n), { force: true })));
    result.written = written;
  }
  console.log(JSON.stringify(result));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(path.resolve(process.argv[2]!)).catch((err) => {
    console.log(JSON.stringify({ error: String(err?.stack ?? err) }));
    process.exit(1);
  });
}

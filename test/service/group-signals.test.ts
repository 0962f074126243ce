// Ctrl-C on `npm start` as a person does it: npm in a process group of its own, the group signalled
// (a terminal's Ctrl-C, systemd, `kill -- -PGID`), so npm and the service both receive the signal and
// npm forwards its own to the service as well. Each time: exit 0, 「stopping」 and 「chakushin stopped」
// logged, and nothing of the checkout left running (no PostgreSQL, no child). Right after a first
// start (fresh var/) and after warm starts, with SIGINT and SIGTERM, and once with a call ringing.
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { leftRunning, npmStart, type NpmStart } from '../support/npm-start.ts';
import { freePort, serviceListenEnv } from '../support/ports.ts';
import { startSipp, sippSummary } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';
import { CALLER, subscriber } from '../notify/fixtures.ts';

const root = path.resolve(import.meta.dirname, '../..');
const scratch: string[] = [];
let current: NpmStart | undefined;

async function checkout(config: object = {}): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-group-signals-'));
  scratch.push(dir);
  // As root PostgreSQL runs as its own user, which must reach the folder.
  await chmod(dir, 0o755);
  const env = {
    VAR_DIR: path.join(dir, 'var'), LOG_LEVEL: 'info', EMBEDDED_PG_PORT: String(await freePort('tcp')),
    ...(await serviceListenEnv()), CHAKUSHIN_CONFIG: path.join(dir, 'config.json'),
  };
  await writeFile(env.CHAKUSHIN_CONFIG, JSON.stringify(config));
  return env;
}

/** `npm start`, healthy, then the group signal; the exit and what is left are checked. */
async function startAndStop(env: Record<string, string>, signal: NodeJS.Signals, whileRunning?: (run: NpmStart) => Promise<void>): Promise<string> {
  const run = (current = npmStart(env));
  await run.healthy(env.HTTP_LISTEN!);
  await whileRunning?.(run);
  run.signalGroup(signal);
  const code = await Promise.race([run.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
  const log = run.log();
  expect(code, log.slice(-4000)).toBe(0);
  current = undefined;
  expect(log).toMatch(/"msg":"stopping"/);
  expect(log).toMatch(/"msg":"chakushin stopped"/);
  expect(log.lastIndexOf('"part":"database"')).toBeGreaterThan(log.lastIndexOf('"part":"calls"'));
  expect(leftRunning(env.VAR_DIR!), log.slice(-4000)).toEqual([]);
  return log;
}

afterEach(async () => {
  // Only when a test failed midway.
  await current?.kill();
  current = undefined;
});
afterAll(async () => {
  for (const dir of scratch) {
    for (const line of leftRunning(path.join(dir, 'var'))) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

describe('npm start stopped by a signal to its process group', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}: right after a first start, then after three warm starts`, async () => {
      const env = await checkout();
      for (let i = 0; i < 4; i++) await startAndStop(env, signal);
    }, 300_000);
  }

  it('SIGINT with a call ringing: the caller gets its answer, the 着信 is recorded and mailed once', async () => {
    // The ringing call outlives a short grace, so the stop must end it itself.
    const env = await checkout({ notify: { shutdownGraceSec: 1 } });
    const number = '0620000003';
    const linePort = await freePort('udp');
    const file = path.join(path.dirname(env.VAR_DIR!), 'subscribers.json');
    await writeFile(file, JSON.stringify({ contracts: [subscriber({ number, target: `sip:${number}@127.0.0.1:${linePort}` })] }));
    const scen = (name: string) => path.join(root, 'test/sipp', `${name}.xml`);

    let line: Awaited<ReturnType<typeof startSipp>> | undefined;
    let caller: typeof line;
    const log = await startAndStop(env, 'SIGINT', async () => {
      const prov = await runCli(['provision', file], env);
      expect(prov.code, prov.stderr).toBe(0);
      line = await startSipp({ scenario: scen('notify-uas-ring'), localPort: linePort, calls: 1, timeoutMs: 40_000 });
      caller = await startSipp({
        scenario: scen('notify-uac-fail'), remote: { port: Number(env.SIP_LISTEN!.split(':')[1]) }, service: number, calls: 1, timeoutMs: 40_000, traceMessages: true,
        keys: { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Notify-Test: 1', hdr2: 'X-Notify-Test: 1' },
      });
      // The B2BUA holds the call, and a moment later the line has answered 180.
      const active = () => fetch(`http://${env.HTTP_LISTEN}/metrics`).then((r) => r.text()).then((t) => /^chakushin_notify_active_calls 1$/m.test(t));
      expect(await waitFor(active, (a) => a, 20_000, 100)).toBe(true);
      await new Promise((r) => setTimeout(r, 1_000));
    });
    const callerResult = await caller!.done;
    expect(callerResult.exitCode, `${sippSummary(callerResult)}\n${callerResult.messages}\n${log}`).toBe(0);
    expect(callerResult.messages).toMatch(/^SIP\/2\.0 480 /m);
    expect((await line!.done).exitCode).toBe(0);

    const calls = await runCli(['calls', '--kind', 'notify', '--json'], env);
    expect(calls.code, calls.stderr).toBe(0);
    const records = calls.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ called: number, status: '応答なし' });

    // Mailed once: by the stop or by the next start, never twice.
    const mailDir = path.join(env.VAR_DIR!, 'mail');
    const caught = async () => {
      const names = await readdir(mailDir).catch(() => []);
      const texts = await Promise.all(names.map((n) => readFile(path.join(mailDir, n), 'utf8').catch(() => '')));
      return texts.filter((t) => t.includes(`pc.${number}@example.jp`)).length;
    };
    await startAndStop(env, 'SIGINT', async () => {
      expect(await waitFor(caught, (n) => n > 0, 30_000, 250)).toBe(1);
      const outbox = await runCli(['mail', 'list', '--json'], env);
      expect(outbox.code, outbox.stderr).toBe(0);
      const rows = outbox.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.to_address === `pc.${number}@example.jp`);
      expect(rows).toEqual([expect.objectContaining({ state: 'sent' })]);
    });
    expect(await caught()).toBe(1);
  }, 300_000);
});

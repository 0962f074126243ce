// The real `npm start` process, stopped by SIGTERM while a 着信 is ringing: the caller gets a
// final response, the call is recorded and its mail queued, the database stops last, exit 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { freePort, serviceListenEnv } from '../support/ports.ts';
import { startSipp, sippSummary } from '../support/sipp.ts';
import { CALLER, subscriber } from '../notify/fixtures.ts';

const root = path.resolve(import.meta.dirname, '../..');
let varDir: string;
let env: Record<string, string>;
let service: ChildProcess | undefined;

beforeAll(async () => {
  varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-signals-'));
  await chmod(varDir, 0o755);
  env = {
    VAR_DIR: varDir,
    LOG_LEVEL: 'info',
    EMBEDDED_PG_PORT: String(await freePort('tcp')),
    ...(await serviceListenEnv()),
    CHAKUSHIN_CONFIG: path.join(varDir, 'config.json'),
  };
  // The ringing call outlives a short grace, so the stop must end it itself.
  await writeFile(env.CHAKUSHIN_CONFIG!, JSON.stringify({ notify: { shutdownGraceSec: 1 } }));
});
afterAll(async () => {
  // Only when the test failed midway: stop the whole process group, politely first.
  if (service?.exitCode === null) {
    const gone = new Promise((r) => service!.once('exit', r));
    process.kill(-service.pid!, 'SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 20_000))]);
    if (service.exitCode === null) process.kill(-service.pid!, 'SIGKILL');
  }
  // The database the CLI commands below started and stopped lives under varDir.
  await rm(varDir, { recursive: true, force: true });
});

async function healthy(port: string): Promise<boolean> {
  try {
    return (await fetch(`http://${port}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

describe('SIGTERM to npm start', () => {
  it('during a ringing call: 480 to the caller, 応答なし recorded, mail queued, database stopped, exit 0', async () => {
    const linePort = await freePort('udp');
    const contracts = { contracts: [subscriber({ number: '0620000002', target: `sip:0620000002@127.0.0.1:${linePort}` })] };
    const file = path.join(varDir, 'subscribers.json');
    await writeFile(file, JSON.stringify(contracts));

    let log = '';
    service = spawn('npm', ['start', '--silent'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    service.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    service.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    const exited = new Promise<number | null>((resolve) => service!.once('exit', (code) => resolve(code)));
    for (let i = 0; i < 240 && !(await healthy(env.HTTP_LISTEN!)); i++) await new Promise((r) => setTimeout(r, 250));
    expect(await healthy(env.HTTP_LISTEN!), log).toBe(true);

    // Provisioned through the CLI, which shares the running service's database.
    const prov = await runCli(['provision', file], env);
    expect(prov.code, prov.stderr).toBe(0);

    const scen = (name: string) => path.join(root, 'test/sipp', `${name}.xml`);
    const sipPort = Number(env.SIP_LISTEN!.split(':')[1]);
    const line = await startSipp({ scenario: scen('notify-uas-ring'), localPort: linePort, calls: 1, timeoutMs: 40_000 });
    const caller = await startSipp({
      scenario: scen('notify-uac-fail'), remote: { port: sipPort }, service: '0620000002', calls: 1, timeoutMs: 40_000, traceMessages: true,
      keys: { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Notify-Test: 1', hdr2: 'X-Notify-Test: 1' },
    });
    // Ringing: the line has answered 180 to the B2BUA.
    await new Promise((r) => setTimeout(r, 1_500));
    service.kill('SIGTERM');

    const callerResult = await caller.done;
    expect(callerResult.exitCode, `${sippSummary(callerResult)}\n${callerResult.messages}\n${log}`).toBe(0);
    expect(callerResult.messages).toMatch(/^SIP\/2\.0 480 /m);
    expect((await line.done).exitCode).toBe(0);
    expect(await exited, log).toBe(0);
    expect(log).toMatch(/"part":"database".*"msg":"stopped"/);
    // The database stops after the calls were recorded: its line comes last.
    expect(log.lastIndexOf('"part":"calls"')).toBeLessThan(log.lastIndexOf('"part":"database"'));
    service = undefined;

    const calls = await runCli(['calls', '--kind', 'notify', '--json'], env);
    expect(calls.code, calls.stderr).toBe(0);
    const records = calls.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ called: '0620000002', status: '応答なし' });
    const mails = await runCli(['mail', 'list', '--json'], env);
    expect(mails.code, mails.stderr).toBe(0);
    expect(mails.stdout).toContain('pc.0620000002@example.jp');
  });
});

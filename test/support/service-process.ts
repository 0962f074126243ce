// The real service (`chakushin start`, a node with its workers) as a child process, for tests that must
// see it survive a call (or be killed during one). DATABASE_URL points at the test database, so embedded
// PostgreSQL is not involved; every other part is embedded, on free ports, unless `env` says otherwise
// (SMTP_URL of a relay the test runs, say).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigInput } from '../../src/config.ts';
import { freePort } from './ports.ts';

const BIN = path.resolve(import.meta.dirname, '../../src/cli/bin.mjs');

export interface ServiceProcess {
  child: ChildProcess;
  sipPort: number;
  httpPort: number;
  /** Everything the process wrote (JSON log lines). */
  output(): string;
  alive(): boolean;
  metrics(): Promise<string>;
  /** SIGKILL, and wait for the exit (its workers leave by themselves once their node is gone). */
  kill9(): Promise<void>;
  /** SIGKILL to the node and every process of it at once (only for a node started `detached`). */
  killGroup9(): Promise<void>;
  /** SIGTERM, then SIGKILL after a while; waits for the exit. */
  stop(): Promise<void>;
}

export async function startServiceProcess(opts: {
  databaseUrl: string; varDir: string; config?: ConfigInput; sipPort?: number; env?: Record<string, string>;
  /** In a process group of its own, so that the whole node can be killed at once. */
  detached?: boolean;
}): Promise<ServiceProcess> {
  const sipPort = opts.sipPort ?? (await freePort('both'));
  const httpPort = await freePort('tcp');
  const configFile = path.join(opts.varDir, `config-${sipPort}.json`);
  await mkdir(opts.varDir, { recursive: true });
  await writeFile(configFile, JSON.stringify(opts.config ?? {}));
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      ...process.env, DATABASE_URL: opts.databaseUrl, VAR_DIR: opts.varDir, CHAKUSHIN_CONFIG: configFile,
      SIP_LISTEN: `127.0.0.1:${sipPort}`, HTTP_LISTEN: `127.0.0.1:${httpPort}`, SITE_LISTEN: '127.0.0.1:0', ENGINE_ADMIN: `127.0.0.1:${await freePort('tcp')}`,
      SMTP_CATCHER_LISTEN: `127.0.0.1:${await freePort('tcp')}`, RTP_PORT_RANGE: '0-0', LOG_LEVEL: 'info', ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached,
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!alive()) throw new Error(`service exited during start:\n${out.slice(-3000)}`);
    const ok = await fetch(`http://127.0.0.1:${httpPort}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`service not healthy within 60 s:\n${out.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child, sipPort, httpPort, alive,
    output: () => out,
    metrics: async () => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(),
    async kill9() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
    async killGroup9() {
      if (!opts.detached) throw new Error('killGroup9 needs a node started detached');
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    },
    async stop() {
      if (alive()) child.kill('SIGTERM');
      const t = setTimeout(() => alive() && (opts.detached ? process.kill(-child.pid!, 'SIGKILL') : child.kill('SIGKILL')), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
}

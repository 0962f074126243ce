// A chakushin node as a user runs it — `node src/cli/bin.mjs start` (what `npm start` execs) from a
// checkout (this one, or an older commit unpacked beside it) — on free loopback ports with a scratch
// VAR_DIR, for the benchmarks. Its CPU is read from /proc for the whole process tree (the service, its
// workers, the embedded PostgreSQL and its backends), so a figure per call covers everything it runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../support/ports.ts';

export interface BenchNode {
  child: ChildProcess;
  root: string;
  varDir: string;
  sip: { host: string; port: number };
  httpPort: number;
  env: Record<string, string>;
  /** CPU seconds (user + system) used so far by the node's process tree, reaped children included, by part. */
  cpuSeconds(): Record<string, number>;
  /** `chakushin ARGS…` of the same checkout with the node's environment (provision, calls, …). */
  cli(args: string[]): Promise<{ code: number | null; out: string }>;
  /** SIGTERM (and SIGKILL after 60 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

const CLK_TCK = 100;

/** pid → [ppid, ticks of the process and its reaped children, command name]. */
function processTable(): Map<number, [number, number, string]> {
  const table = new Map<number, [number, number, string]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // Fields after the command (which may hold spaces) start after its closing parenthesis.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      table.set(Number(name), [Number(f[1]), ticks, stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))]);
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/**
 * CPU seconds of `pid` and every live descendant (with what each has reaped), by part: the node
 * process itself ('service'), its workers, its SMTP catcher, PostgreSQL, anything else by name.
 */
export function treeCpuSeconds(pid: number): Record<string, number> {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [p, [ppid]] of table) children.set(ppid, [...(children.get(ppid) ?? []), p]);
  const parts: Record<string, number> = {};
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    const entry = table.get(p);
    if (entry) {
      const part = p === pid ? 'service' : entry[2] === 'node' ? nodeRole(p) : entry[2].startsWith('postgres') || entry[2] === 'postmaster' ? 'postgres' : entry[2];
      parts[part] = (parts[part] ?? 0) + entry[1] / CLK_TCK;
    }
    stack.push(...(children.get(p) ?? []));
  }
  return parts;
}

/** A node child of the service by its command: its SMTP catcher, or a worker. */
function nodeRole(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('\0catcher\0') ? 'catcher' : 'workers';
  } catch {
    return 'workers';
  }
}

/** The difference of two treeCpuSeconds readings, part by part. */
export function cpuSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

export interface NodeOptions {
  /** The checkout to run (its src/cli/bin.mjs). */
  root: string;
  varDir: string;
  /** Extra environment (WORKERS, DATABASE_URL, …); every listener gets a free port unless given. */
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  config?: object;
}

export async function startBenchNode(opts: NodeOptions): Promise<BenchNode> {
  await mkdir(opts.varDir, { recursive: true });
  const configFile = path.join(opts.varDir, 'config.json');
  await writeFile(configFile, JSON.stringify(opts.config ?? {}));
  const sipPort = await freePort('both');
  const httpPort = await freePort('tcp');
  const env: Record<string, string> = {
    VAR_DIR: opts.varDir,
    CHAKUSHIN_CONFIG: configFile,
    SIP_LISTEN: `127.0.0.1:${sipPort}`,
    HTTP_LISTEN: `127.0.0.1:${httpPort}`,
    SITE_LISTEN: `127.0.0.1:${await freePort('tcp')}`,
    ENGINE_ADMIN: `127.0.0.1:${await freePort('tcp')}`,
    SMTP_CATCHER_LISTEN: `127.0.0.1:${await freePort('tcp')}`,
    EMBEDDED_PG_PORT: String(await freePort('tcp')),
    RTP_PORT_RANGE: '0-0',
    ...opts.env,
  };
  const bin = path.join(opts.root, 'src/cli/bin.mjs');
  const log = openSync(path.join(opts.varDir, 'service.log'), 'a');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), bin, 'start'], {
    cwd: opts.root, env: { ...process.env, ...env }, stdio: ['ignore', log, log],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (!alive()) throw new Error(`node at ${opts.root} exited during start; see ${opts.varDir}/service.log`);
    if (await fetch(`http://127.0.0.1:${httpPort}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`node at ${opts.root} not healthy in 120 s; see ${opts.varDir}/service.log`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    child, root: opts.root, varDir: opts.varDir, env, httpPort,
    sip: { host: '127.0.0.1', port: sipPort },
    cpuSeconds: () => treeCpuSeconds(child.pid!),
    cli: (args) => new Promise((resolve) => {
      const c = spawn(process.execPath, [bin, ...args], { cwd: opts.root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr.on('data', (d: Buffer) => (out += d.toString()));
      c.once('exit', (code) => resolve({ code, out }));
    }),
    async stop() {
      if (alive()) child.kill('SIGTERM');
      const t = setTimeout(() => alive() && child.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

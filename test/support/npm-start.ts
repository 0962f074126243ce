// `npm start` as a person runs it in a terminal: through npm, in a process group of its own (what
// `setsid` gives; a terminal's foreground group), so a test can signal the whole group as Ctrl-C,
// systemd or `kill -- -PGID` do, and then look for anything of the checkout left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export interface NpmStart {
  child: ChildProcess;
  /** Everything npm and the service wrote so far. */
  log(): string;
  /** npm's exit code (null: killed by a signal). */
  exited: Promise<number | null>;
  /** Waits until /healthz answers 200 on `httpListen`; throws with the log if the process ends or the time is up. */
  healthy(httpListen: string, timeoutMs?: number): Promise<void>;
  /** A signal to the whole process group (npm, the service, whatever they spawned in the group). */
  signalGroup(signal: NodeJS.Signals): void;
  /** Only for a test that failed midway: SIGTERM to the group, SIGKILL after a while. */
  kill(): Promise<void>;
}

/** `checkout`: the folder npm start runs in (this one by default; a benchmark may time another). */
export function npmStart(env: Record<string, string>, checkout = root): NpmStart {
  // detached: the child calls setsid(), a session and process group of its own, like `setsid npm start`.
  const child = spawn('npm', ['start'], { cwd: checkout, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  return {
    child,
    log: () => out,
    exited,
    signalGroup,
    async healthy(httpListen, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!running()) throw new Error(`npm start ended before it was healthy:\n${out.slice(-4000)}`);
        const ok = await fetch(`http://${httpListen}/healthz`).then((r) => r.status === 200, () => false);
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`npm start not healthy within ${timeoutMs / 1000} s:\n${out.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async kill() {
      if (!running()) return;
      signalGroup('SIGTERM');
      const t = setTimeout(() => signalGroup('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Processes still running that belong to the checkout run with `varDir`: their command line names it
 * (postgres -D …/pgdata) or they inherited VAR_DIR=varDir (the service, its children, PostgreSQL's
 * backends). Each as "pid command line".
 */
export function leftRunning(varDir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (cmdline.includes(varDir) || environ.includes(`VAR_DIR=${varDir}`)) found.push(`${pid} ${cmdline}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

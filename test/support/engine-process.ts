// Starts test/sip-engine/run-engine.ts as a child process and reads its memory from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface EngineProcess {
  child: ChildProcess;
  sip: { host: string; port: number };
  admin: { host: string; port: number };
  /** VmRSS and VmHWM (peak RSS) of the engine process, in MB. */
  memory(): { rssMb: number; peakMb: number };
  stop(): Promise<void>;
}

/** `nofile`: run it under that RLIMIT_NOFILE (soft and hard), with util-linux prlimit. */
export async function startEngineProcess(opts: Record<string, unknown>, { nofile }: { nofile?: number } = {}): Promise<EngineProcess> {
  const node = [process.execPath, '--import', 'tsx', path.resolve(import.meta.dirname, '../sip-engine/run-engine.ts'), JSON.stringify(opts)];
  const [cmd, ...args] = nofile ? ['prlimit', `--nofile=${nofile}:${nofile}`, '--', ...node] : node;
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => { rl.close(); resolve(l); });
    child.once('exit', (code) => reject(new Error(`engine process exited ${code} before listening`)));
  });
  const { sip, admin } = JSON.parse(line) as { sip: EngineProcess['sip']; admin: EngineProcess['admin'] };
  return {
    child, sip, admin,
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
      return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// The built-in SMTP catcher as a process of its own (`chakushin catcher`), started by the node when no
// SMTP_URL is set: the workers send to it as they would to a relay, and the node's own process keeps its
// core for the SIP engine. It goes when its node goes (its IPC channel closes).
import { fork } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { StartFailure } from './start-failure.ts';
import { CLI_BIN } from './workers.ts';

const CATCHER_NICENESS = 10;

export interface CatcherProcess {
  port: number;
  /** SIGTERM, and waits for it to go (SIGKILL after 10 s). */
  close(): Promise<void>;
}

export async function startCatcherProcess(opts: {
  listen: { host: string; port: number };
  dir: string;
  logLevel: string;
  /** Where its log lines go; by default this process's stdout and stderr. */
  output?: Writable;
}): Promise<CatcherProcess> {
  const child = fork(CLI_BIN, ['catcher', '--listen', `${opts.listen.host}:${opts.listen.port}`, '--dir', opts.dir, '--log-level', opts.logLevel], {
    stdio: opts.output ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
    // Its own process group, as the workers': the node stops it, after them.
    detached: true,
  });
  if (opts.output) for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on('line', (l) => opts.output!.write(`${l}\n`));
  // The relay's stand-in gives way to the calls: when the cores are busy, mail waits, SIP does not.
  try {
    os.setPriority(child.pid!, CATCHER_NICENESS);
  } catch {
    // not allowed here: it runs at the node's own priority
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m: { t: string; port?: number; message?: string }) => {
      if (m.t === 'ready') resolve(m.port!);
      else if (m.t === 'failed') reject(new StartFailure(m.message!));
    });
    void exited.then(() => reject(new StartFailure('SMTP catcher did not start: its process exited')));
  });
  return {
    port,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

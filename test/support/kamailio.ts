// Debian's Kamailio (package kamailio) running docker/kamailio/kamailio.cfg as it is, in the foreground,
// in front of the given nodes, on a free loopback port; for the tests and bench:scale.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';

export const KAMAILIO_CFG = path.resolve(import.meta.dirname, '../../docker/kamailio/kamailio.cfg');

export interface Kamailio {
  port: number;
  /** Its main process (its workers are that process's children). */
  pid: number;
  /** Everything it printed and logged. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * One UDP worker by default: with several, a 180 and the 200 right behind it can be relayed by two
 * processes and overtake each other, which a phone shrugs off but SIPp's scenarios count as a failure.
 */
export async function startKamailio(opts: { nodes: { host: string; port: number }[]; pingSec?: number; children?: number }): Promise<Kamailio> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-kamailio-'));
  const list = path.join(dir, 'dispatcher.list');
  await writeFile(list, opts.nodes.map((n) => `1 sip:${n.host}:${n.port}\n`).join(''));
  const port = await freePort('udp');
  const child = spawn('kamailio', [
    '-f', KAMAILIO_CFG, '-DD', '-E', '-m', '64', '-M', '8', '-n', String(opts.children ?? 1),
    '-A', `LISTEN=udp:127.0.0.1:${port}`, '-A', `DS_LIST="${list}"`, '-A', `PING_SEC=${opts.pingSec ?? 1}`,
    '-Y', dir, '-P', path.join(dir, 'kamailio.pid'), '-w', dir,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  // It prints where it listens on stdout, and logs on stderr.
  for (const s of [child.stdout, child.stderr]) s.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 20_000;
  while (!/Listening on/.test(out) || !/udp: 127\.0\.0\.1/.test(out)) {
    if (child.exitCode !== null) throw new Error(`kamailio exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`kamailio not listening in 20 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    pid: child.pid!,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

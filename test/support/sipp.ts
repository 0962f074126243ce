// Runs SIPp (Debian package sip-tester) against 127.0.0.1 for tests and benchmarks.
// Every run gets its own temp directory (SIPp writes its traces into the working directory);
// a run never outlives its deadline: SIGINT, then SIGKILL.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scenarioWithRisingDtmf } from './dtmf-pcaps.ts';
import { freePort } from './ports.ts';

export type SippTransport = 'udp' | 'tcp';

export interface SippOptions {
  /** Path to a scenario XML file, or `{ builtin: 'uac' | 'uas' | … }` for SIPp's own (-sn). */
  scenario: string | { builtin: string };
  /** UAC: where to send (host defaults to 127.0.0.1). UAS: omit. */
  remote?: { host?: string; port: number };
  transport?: SippTransport;
  /** Local address SIPp binds to (-i); 127.0.0.1 unless a test stands in for "somewhere else" (127.0.0.2). */
  localIp?: string;
  /** Local SIP port (-p); a free one is picked when omitted. */
  localPort?: number;
  /** Request-URI user (-s). */
  service?: string;
  /** Stop after this many calls (-m). */
  calls?: number;
  /** Calls per second (-r) and the period it counts over (-rp, ms). */
  rate?: number;
  ratePeriodMs?: number;
  /** Max simultaneous calls (-l). */
  limit?: number;
  /** `-key name value` pairs, usable as [name] in the scenario. */
  keys?: Record<string, string>;
  /** Injection CSV rows (`-inf`); the first line written is the read mode. */
  injection?: { mode?: 'SEQUENTIAL' | 'RANDOM' | 'USER'; rows: string[][] };
  /** Hard deadline for the process; also passed to SIPp as -timeout. Default 30 s. */
  timeoutMs?: number;
  /** Record every message (-trace_msg) and response times (-trace_rtt). */
  traceMessages?: boolean;
  traceRtt?: boolean;
  extraArgs?: string[];
}

export interface SippStats {
  /** Raw last row of SIPp's -trace_stat CSV, by column name. */
  raw: Record<string, string>;
  successful: number;
  failed: number;
  created: number;
  retransmissions: number;
}

export interface SippResult {
  exitCode: number | null;
  /** True when the deadline hit and the process had to be killed. */
  killed: boolean;
  stdout: string;
  stderr: string;
  stats?: SippStats;
  /** Contents of -trace_err (unexpected messages, timeouts). */
  errors: string;
  /** Contents of -trace_msg when traceMessages is set. */
  messages: string;
  /** rtd number → response times in ms, when traceRtt is set. */
  rtt: Map<number, number[]>;
  localPort: number;
}

export interface SippProcess {
  localPort: number;
  /** The SIPp process (benchmarks read its CPU time). */
  pid: number | undefined;
  /** Resolves when SIPp exits on its own (or is killed at the deadline). */
  done: Promise<SippResult>;
  /** Asks SIPp to stop (SIGINT, then SIGKILL) and returns its result. */
  stop(): Promise<SippResult>;
}

const GRACE_MS = 3000;

/** Starts SIPp and returns at once; use for a UAS that must be listening before the UAC runs. */
export async function startSipp(opts: SippOptions): Promise<SippProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-sipp-'));
  const localPort = opts.localPort ?? (await freePort(opts.transport === 'tcp' ? 'tcp' : 'udp'));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const args: string[] = [];
  // RFC 4733 presses rise in sequence number and timestamp through the call, as a phone sends them.
  if (typeof opts.scenario === 'string') args.push('-sf', await scenarioWithRisingDtmf(path.resolve(opts.scenario), dir));
  else args.push('-sn', opts.scenario.builtin);
  if (opts.remote) args.push(`${opts.remote.host ?? '127.0.0.1'}:${opts.remote.port}`);
  args.push('-i', opts.localIp ?? '127.0.0.1', '-p', String(localPort), '-t', opts.transport === 'tcp' ? 't1' : 'u1');
  args.push('-nostdin', '-trace_err', '-error_file', path.join(dir, 'errors.log'));
  args.push('-trace_stat', '-stf', path.join(dir, 'stat.csv'), '-fd', '1');
  args.push('-timeout', `${Math.ceil(timeoutMs / 1000)}s`, '-timeout_error');
  if (opts.service) args.push('-s', opts.service);
  if (opts.calls !== undefined) args.push('-m', String(opts.calls));
  if (opts.rate !== undefined) args.push('-r', String(opts.rate));
  if (opts.ratePeriodMs !== undefined) args.push('-rp', String(opts.ratePeriodMs));
  if (opts.limit !== undefined) args.push('-l', String(opts.limit));
  for (const [k, v] of Object.entries(opts.keys ?? {})) args.push('-key', k, v);
  if (opts.injection) {
    const file = path.join(dir, 'inject.csv');
    await writeFile(file, [opts.injection.mode ?? 'SEQUENTIAL', ...opts.injection.rows.map((r) => r.join(';'))].join('\n') + '\n');
    args.push('-inf', file);
  }
  if (opts.traceMessages) args.push('-trace_msg', '-message_file', path.join(dir, 'messages.log'));
  if (opts.traceRtt) args.push('-trace_rtt', '-rtt_freq', '1');
  args.push(...(opts.extraArgs ?? []));

  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout = (stdout + d.toString()).slice(-20_000); });
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-20_000); });
  let killed = false;
  const kill = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) { killed = true; child.kill('SIGKILL'); }
    }, GRACE_MS).unref();
  };
  const deadline = setTimeout(() => { killed = true; kill(); }, timeoutMs + GRACE_MS);
  deadline.unref();

  const done = new Promise<SippResult>((resolve) => {
    child.on('error', (err) => { stderr += String(err); });
    child.on('close', (code) => {
      clearTimeout(deadline);
      void collect(dir, { exitCode: code, killed, stdout, stderr, localPort, traceRtt: !!opts.traceRtt }).then(resolve);
    });
  });
  return {
    localPort,
    pid: child.pid,
    done,
    stop: () => { kill(); return done; },
  };
}

/** Runs SIPp to completion (or its deadline). */
export async function runSipp(opts: SippOptions): Promise<SippResult> {
  return (await startSipp(opts)).done;
}

async function collect(dir: string, r: { exitCode: number | null; killed: boolean; stdout: string; stderr: string; localPort: number; traceRtt: boolean }): Promise<SippResult> {
  const read = (f: string) => readFile(path.join(dir, f), 'utf8').catch(() => '');
  const result: SippResult = {
    exitCode: r.exitCode, killed: r.killed, stdout: r.stdout, stderr: r.stderr, localPort: r.localPort,
    errors: await read('errors.log'), messages: await read('messages.log'), rtt: new Map(),
  };
  const stats = parseStats(await read('stat.csv'));
  if (stats) result.stats = stats;
  if (r.traceRtt) {
    for (const f of (await readdir(dir)).filter((n) => n.endsWith('_rtt.csv'))) {
      for (const line of (await read(f)).split('\n').slice(1)) {
        const [, ms, rtd] = line.split(';');
        if (ms === undefined || rtd === undefined) continue;
        const key = Number(rtd);
        const list = result.rtt.get(key) ?? [];
        list.push(Number(ms));
        result.rtt.set(key, list);
      }
    }
  }
  await rm(dir, { recursive: true, force: true });
  return result;
}

function parseStats(csv: string): SippStats | undefined {
  const lines = csv.split('\n').filter((l) => l.trim());
  const header = lines[0]?.split(';');
  const last = lines[lines.length - 1]?.split(';');
  if (!header || !last || lines.length < 2) return undefined;
  const raw: Record<string, string> = {};
  header.forEach((h, i) => { if (h) raw[h] = last[i] ?? ''; });
  const n = (k: string) => Number(raw[k] ?? 0) || 0;
  return {
    raw, successful: n('SuccessfulCall(C)'), failed: n('FailedCall(C)'), created: n('TotalCallCreated'),
    retransmissions: n('Retransmissions(C)'),
  };
}

/** One-line summary for assertion messages. */
export function sippSummary(r: SippResult): string {
  return `exit=${r.exitCode} killed=${r.killed} ok=${r.stats?.successful} failed=${r.stats?.failed}\n${r.errors.slice(0, 3000)}\n${r.stderr.slice(-1000)}`;
}

export interface TracedMessage {
  at: Date;
  sent: boolean;
  /** The SIP message as it went on the wire. */
  text: string;
  /** Its Call-ID. */
  callId: string;
}

/** The messages of a -trace_msg log, in order. */
export function tracedMessages(trace: string): TracedMessage[] {
  return trace.split(/^-{10,} (?=\d{4}-)/m).filter((b) => b.trim()).map((block) => {
    const [stamp = '', direction = '', ...rest] = block.split('\n');
    const text = rest.join('\n').replace(/^\n/, '');
    return {
      at: new Date(stamp.trim().replace(' ', 'T') + 'Z'),
      sent: /sent/.test(direction),
      text,
      callId: /^(?:Call-ID|i)\s*:\s*(\S+)/im.exec(text)?.[1] ?? '',
    };
  });
}

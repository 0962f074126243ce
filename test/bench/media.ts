// npm run bench:media [-- --sizes=100,200,300 --seconds=10]
// N concurrent built-in media sessions, each playing a guidance prompt (looped) to one
// RTP receiver in a separate process on this machine. For each N: packet inter-arrival
// jitter (|gap − 20 ms|) p50/p99/max, clock drift over the run, CPU of the media process
// per session. Stops growing N once p99 jitter passes 5 ms.
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createBuiltinMediaServer, loadPromptLibrary, HangupError, type MediaSession } from '../../src/media/index.ts';

interface Report {
  packets: number;
  /** Packets missing from the sequence numbers seen (lost on the way or dropped by the receiver). */
  lost: number;
  streams: number;
  p50: number;
  p99: number;
  max: number;
  maxDriftMs: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : 0;
}

/** Receiver process: times every packet per SSRC and reports when told to stop. */
function receiver(): void {
  // All sessions send on the same 20 ms tick, so the receiver sees bursts of N packets:
  // give its socket room (the kernel caps this at net.core.rmem_max).
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.on('listening', () => process.send!({ port: socket.address().port }));
  let recording = false;
  const last = new Map<number, { at: number; first: number; seqFirst: number; seq: number }>();
  const gaps: number[] = [];
  let packets = 0;
  let lost = 0;
  socket.on('message', (msg) => {
    const at = performance.now();
    if (!recording || msg.length < 12) return;
    packets++;
    const ssrc = msg.readUInt32BE(8);
    const seq = msg.readUInt16BE(2);
    const prev = last.get(ssrc);
    if (prev) {
      const missing = ((seq - prev.seq) & 0xffff) - 1;
      lost += missing;
      gaps.push(Math.abs(at - prev.at - 20 * (missing + 1)));
      prev.at = at;
      prev.seq = seq;
    } else last.set(ssrc, { at, first: at, seqFirst: seq, seq });
  });
  process.on('message', (m: { cmd: 'start' | 'stop' }) => {
    if (m.cmd === 'start') {
      recording = true;
      return;
    }
    recording = false;
    const sorted = Float64Array.from(gaps).sort();
    let maxDriftMs = 0;
    for (const s of last.values()) {
      const frames = (s.seq - s.seqFirst) & 0xffff;
      maxDriftMs = Math.max(maxDriftMs, Math.abs(s.at - s.first - frames * 20));
    }
    const report: Report = { packets, lost, streams: last.size, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0, maxDriftMs };
    process.send!(report);
    gaps.length = 0;
    last.clear();
    packets = 0;
    lost = 0;
  });
  socket.bind(0, '127.0.0.1');
}

async function main(): Promise<void> {
  const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
  const sizes = (args.sizes ?? '100,300,600,1000,1500,2000,3000').split(',').map(Number);
  const seconds = Number(args.seconds ?? 10);
  const prompts = await loadPromptLibrary({ dir: path.resolve('prompts') });
  const media = await createBuiltinMediaServer({ host: '127.0.0.1', portMin: 0, portMax: 0, prompts });
  const child = fork(fileURLToPath(import.meta.url), ['--receiver'], { execArgv: ['--import', 'tsx'] });
  const next = <T>() => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
  const { port } = await next<{ port: number }>();
  const offer = ['v=0', 'o=bench 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', ''].join('\r\n');

  console.log(`built-in media endpoint, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, ${seconds} s per step`);
  console.log('topology measured: the built-in RTP endpoint alone, in the benchmark process (as one app worker of `npm start` runs it)');
  console.log('sessions  packets/s  lost     jitter p50   p99      max      drift max   CPU/session  CPU total');
  let crossed: number | undefined;
  for (const n of sizes) {
    const sessions: MediaSession[] = [];
    const loop = async (s: MediaSession) => {
      try {
        for (;;) await s.play([{ prompt: 'a_unit_menu' }]);
      } catch (err) {
        if (!(err instanceof HangupError)) throw err;
      }
    };
    for (let i = 0; i < n; i++) {
      const s = await media.open(offer, { callId: `bench-${i}` });
      sessions.push(s);
      void loop(s);
    }
    await new Promise((r) => setTimeout(r, 1000));
    child.send({ cmd: 'start' });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    const reported = next<Report>();
    child.send({ cmd: 'stop' });
    const r = await reported;
    await Promise.all(sessions.map((s) => s.close()));
    const cpuShare = (cpu.user + cpu.system) / 1000 / wall;
    console.log(
      [
        String(n).padStart(8),
        String(Math.round(r.packets / (wall / 1000))).padStart(10),
        `${((100 * r.lost) / Math.max(1, r.packets + r.lost)).toFixed(2)} %`.padStart(8),
        `${r.p50.toFixed(2)} ms`.padStart(12),
        `${r.p99.toFixed(2)} ms`.padStart(9),
        `${r.max.toFixed(1)} ms`.padStart(9),
        `${r.maxDriftMs.toFixed(1)} ms`.padStart(11),
        `${((cpuShare / n) * 100).toFixed(3)} %`.padStart(12),
        `${(cpuShare * 100).toFixed(1)} %`.padStart(10),
      ].join(' '),
    );
    if (r.streams < n) console.log(`          (only ${r.streams} of ${n} streams reached the receiver)`);
    if (r.p99 > 5) {
      crossed = n;
      break;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(crossed === undefined ? `p99 jitter stayed under 5 ms up to ${sizes.at(-1)} sessions` : `p99 jitter crossed 5 ms at ${crossed} sessions`);
  child.kill();
  await media.close();
}

if (process.argv.includes('--receiver')) receiver();
else await main();

// npm run bench:fax [-- --sizes=5,10,20 --pages=1]
// N FAXes received at once by the built-in endpoint's FAX receiver (spandsp T.30 over G.711 RTP, the
// shared 20 ms pacer), sent by N spandsp senders in a separate process on this machine. For each N:
// how many arrive complete, the receiving process's CPU per FAX session, the pacer's late ticks and
// stalls. Baseline in the same run: N plain built-in media sessions sending guidance silence for the
// same time (what the IVR costs), so the ratio shows what T.30 and the modems add.
import { execFileSync, fork } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pacer } from '../../src/media/pacer.ts';
import { negotiate } from '../../src/media/sdp.ts';
import { BuiltinFaxSession } from '../../src/media/fax/session.ts';
import { loadSpandsp } from '../../src/media/fax/spandsp.ts';
import { offerG711 } from '../../src/media/fax/t38-sdp.ts';
import { Registry } from 'prom-client';
import { createBuiltinMediaServer, loadPromptLibrary, type FaxReception } from '../../src/media/index.ts';

const arg = (name: string, def: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def;

/** Sender process: for each offer it is given, a calling spandsp terminal sending the file. */
async function senders(): Promise<void> {
  const spandsp = loadSpandsp();
  const pacer = new Pacer();
  process.on('message', async (m: { file: string; answers: string[] }) => {
    const done = await Promise.all(m.answers.map(async (answer, i) => {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((r) => socket.bind(Number(process.env[`P${i}`] ?? 0), '127.0.0.1', () => r()));
      const media = negotiate(answer);
      const s = new BuiltinFaxSession({
        spandsp, socket, pacer, host: '127.0.0.1', remote: media.remote, codec: media.codec, calling: true, txFile: m.file,
        workDir: '.', ident: `BENCH ${i}`, noFaxTimeoutMs: 0, maxDurationMs: 600_000, title: 'bench', onClose: () => undefined,
      });
      return (await s.done).t30Code;
    }));
    process.send!({ done });
  });
  process.send!({ ready: true });
}

async function main(): Promise<void> {
  const sizes = arg('sizes', '5,10,20').split(',').map(Number);
  const pages = Number(arg('pages', '1'));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-bench-fax-'));
  const file = path.join(dir, 'doc.tif');
  const ps = Array.from({ length: pages }, (_, i) => `/Helvetica findfont 40 scalefont setfont 60 300 moveto (bench page ${i + 1}) show showpage`).join(' ');
  execFileSync('gs', ['-q', '-dNOPAUSE', '-dBATCH', '-sDEVICE=tiffg3', '-r204x196', '-g1728x1100', `-sOutputFile=${file}`, '-c', ps]);
  const prompts = await loadPromptLibrary({ dir: 'prompts' });
  console.log(`bench:fax — ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, ${pages} page(s) of 1728×1100 per FAX`);
  console.log('topology measured: the built-in media endpoint\'s FAX receiver alone, in the benchmark process (as one app worker of `npm start` runs it)');
  console.log('N  | complete | wall s | FAX CPU ms/session/s | baseline CPU ms/session/s | ratio | pacer late/stalls');
  for (const n of sizes) {
    const media = await createBuiltinMediaServer({ host: '127.0.0.1', portMin: 0, portMax: 0, prompts, fax: { workDir: dir } });
    const registry = new Registry();
    media.registerMetrics(registry);
    // Offers name ports the sender binds: picked here, free on loopback.
    const ports = await Promise.all(Array.from({ length: n }, () => new Promise<number>((r) => {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); });
    })));
    const sender = fork(fileURLToPath(import.meta.url), ['--sender'], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...Object.fromEntries(ports.map((p, i) => [`P${i}`, String(p)])) } });
    await new Promise((r) => sender.once('message', r));
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const sessions = await Promise.all(ports.map((port, i) => media.receive(offerG711({ address: '127.0.0.1', port }), { callId: `bench-${i}`, ident: 'RECV', noFaxTimeoutMs: 60_000, maxDurationMs: 600_000 })));
    sender.send({ file, answers: sessions.map((s) => s.localSdp) });
    const results: FaxReception[] = await Promise.all(sessions.map((s) => s.done));
    const wall = (Date.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await new Promise((r) => sender.once('message', r));
    sender.kill();
    const faxCpu = (cpu.user + cpu.system) / 1000 / n / wall;
    // Baseline: the same number of plain media sessions for the same time.
    const plain = await Promise.all(ports.map(async () => {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      const s = await media.open(offerG711({ address: '127.0.0.1', port: sock.address().port }), { callId: 'plain' });
      return { s, sock };
    }));
    const b0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, Math.min(wall, 10) * 1000));
    const b = process.cpuUsage(b0);
    const baseCpu = (b.user + b.system) / 1000 / n / Math.min(wall, 10);
    await Promise.all(plain.map(async ({ s, sock }) => { await s.close(); sock.close(); }));
    await media.close();
    const complete = results.filter((r) => r.result === 'complete' && r.pages === pages).length;
    const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;
    const pacer = `${await metric('chakushin_media_pacer_late_ticks_total')}/${await metric('chakushin_media_pacer_stalls_total')}`;
    console.log(`${String(n).padEnd(3)}| ${`${complete}/${n}`.padEnd(8)} | ${wall.toFixed(1).padEnd(6)} | ${faxCpu.toFixed(2).padEnd(20)} | ${baseCpu.toFixed(2).padEnd(25)} | ${(faxCpu / baseCpu).toFixed(1).padEnd(5)} | ${pacer}`);
  }
  await rm(dir, { recursive: true, force: true });
}

if (process.argv.includes('--sender')) void senders();
else void main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });

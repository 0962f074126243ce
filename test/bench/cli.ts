// bench:cli — how long an operator waits for `npx chakushin …`: each command run several times, as
// the README shows it, beside a running `npm start` (so database commands share its PostgreSQL, as
// they do in use). Baselines in the same run: `node -e 0` (Node's own start) and `npx --version`
// (npm's). Prints median/min/max wall time and the ratio of each median to `node -e 0`.
//   npm run bench:cli [-- --runs 7] [-- --checkout DIR]   (DIR: another checkout to time, e.g. an older commit)
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { npmStart } from '../support/npm-start.ts';
import { freePort, serviceListenEnv } from '../support/ports.ts';
import { arg, pct } from './support.ts';

const RUNS = Number(arg('runs', '5'));
const checkout = path.resolve(arg('checkout', path.resolve(import.meta.dirname, '../..')));
const NUMBER = '0611112222';

/** Wall time of one run; exit 0 expected (1 for `temp-password status` of a number without one). */
function timed(cmd: string, args: string[], env: Record<string, string>): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: checkout, env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !(r.status === 1 && args.includes('temp-password'))) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return ms;
}

async function main() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-bench-cli-'));
  // As root, PostgreSQL runs as its own user and must reach the data directory.
  await chmod(dir, 0o755);
  const env: Record<string, string> = { VAR_DIR: path.join(dir, 'var'), EMBEDDED_PG_PORT: String(await freePort('tcp')), ...(await serviceListenEnv()), CHAKUSHIN_CONFIG: path.join(dir, 'config.json') };
  await writeFile(env.CHAKUSHIN_CONFIG!, '{}');
  const file = path.join(dir, 'subscribers.json');
  await writeFile(file, JSON.stringify({ contracts: [{ id: 'BENCH', region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number: NUMBER, role: 'main', services: ['chakushin_mail'] }] }] }));
  const service = npmStart(env, checkout);
  try {
    await service.healthy(env.HTTP_LISTEN!);
    timed('npx', ['chakushin', 'provision', file], env);
    const rows: [string, string, string[]][] = [
      ['node -e 0 (baseline)', process.execPath, ['-e', '0']],
      ['npx --version (baseline)', 'npx', ['--version']],
      ['npx chakushin help', 'npx', ['chakushin', 'help']],
      ['npx chakushin start --help', 'npx', ['chakushin', 'start', '--help']],
      ['node src/cli/bin.mjs help', process.execPath, ['src/cli/bin.mjs', 'help']],
      [`npx chakushin temp-password status ${NUMBER}`, 'npx', ['chakushin', 'temp-password', 'status', NUMBER]],
      ['npx chakushin calls --limit 5', 'npx', ['chakushin', 'calls', '--limit', '5']],
      ['npx chakushin audit --limit 5', 'npx', ['chakushin', 'audit', '--limit', '5']],
      ['npx chakushin mail list --limit 5', 'npx', ['chakushin', 'mail', 'list', '--limit', '5']],
      ['npx chakushin provision --check FILE', 'npx', ['chakushin', 'provision', file, '--check']],
    ];
    const results: { name: string; times: number[] }[] = rows.map(([name]) => ({ name, times: [] }));
    // Round-robin, so a busy moment of the machine spreads over every command.
    for (let i = 0; i < RUNS; i++) rows.forEach(([, cmd, args], j) => results[j]!.times.push(timed(cmd, args, env)));
    const baseline = pct(results[0]!.times, 50);
    console.log(`bench:cli — ${checkout}, ${RUNS} runs each, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, a running npm start beside`);
    console.log('topology measured: `npx chakushin …` as the README shows it, beside a running `npm start`');
    console.log(`${'command'.padEnd(44)} ${'median'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)}  ×node`);
    for (const r of results) {
      const ms = (p: number) => `${pct(r.times, p).toFixed(0)} ms`.padStart(8);
      console.log(`${r.name.padEnd(44)} ${ms(50)} ${ms(0)} ${ms(100)}  ${(pct(r.times, 50) / baseline).toFixed(1)}`);
    }
  } finally {
    service.signalGroup('SIGTERM');
    await service.exited;
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

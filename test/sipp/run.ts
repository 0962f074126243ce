// `npm run sipp -- ARGS…`: SIPp as the README and the scenario headers run it by hand, with the
// same arguments as `sipp`. A scenario that presses keys as RFC 2833 events plays sip-tester's
// captures, and SIPp replays a capture byte for byte: a key pressed twice would be one event sent
// twice, which a receiver rightly drops. So the -sf scenario is first given captures of its own,
// one per press, rising through the call (test/support/dtmf-pcaps.ts, as the test suite does), in
// a temp folder removed afterwards (kept with -bg, which SIPp reads on after this exits).
// Relative paths are the caller's: npm runs scripts in the checkout, and says where it was run from.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scenarioWithRisingDtmf } from '../support/dtmf-pcaps.ts';

const args = process.argv.slice(2);
const cwd = process.env.INIT_CWD ?? process.cwd();
const sf = args.indexOf('-sf');
let dir: string | undefined;
if (sf >= 0 && args[sf + 1]) {
  const scenario = path.resolve(cwd, args[sf + 1]!);
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-sipp-'));
  args[sf + 1] = await scenarioWithRisingDtmf(scenario, dir);
}
const background = args.includes('-bg');
// A terminal's Ctrl-C reaches SIPp itself, which ends its calls and prints its summary: this
// process waits for that instead of dying first.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
const code = await new Promise<number>((resolve) => {
  const sipp = spawn('sipp', args, { cwd, stdio: 'inherit' });
  sipp.once('error', (err: NodeJS.ErrnoException) => {
    console.error(err.code === 'ENOENT' ? 'sipp is not installed: apt-get install -y sip-tester' : `sipp: ${err.message}`);
    resolve(127);
  });
  sipp.once('exit', (status, signal) => resolve(status ?? (signal ? 128 + os.constants.signals[signal] : 1)));
});
// With -bg, SIPp's foreground half exits 99 ("no call processed") once its background half runs: that is success.
if (dir && !background) await rm(dir, { recursive: true, force: true });
process.exit(background && code === 99 ? 0 : code);

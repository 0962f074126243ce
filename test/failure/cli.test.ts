// `chakushin lines` through the real CLI process, on lines a real prober has probed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { contract, lineIn, provision, SippLine, startStack, type Stack } from './harness.ts';

let stack: Stack;
let line: SippLine;
beforeAll(async () => {
  stack = await startStack();
  line = await SippLine.create();
  await line.answer();
  await provision(stack, contract({ id: 'FCLI', numbers: [{ number: '0611118888', target: line.target }, { number: '0611118889', target: line.target }], bulkForward: null }));
  await stack.startProber('cli-test');
});
afterAll(async () => {
  await line?.stop();
  await stack?.close();
});

it('lists the probed lines with state, since when and the last probe; then the 故障 first, and the events', async () => {
  await lineIn(stack, 'FCLI', line.target, 'up');
  const up = await runCli(['lines'], { DATABASE_URL: stack.db.url });
  expect(up.code).toBe(0);
  expect(up.stdout).toMatch(new RegExp(`^up +since \\S+Z  FCLI  ${line.target}  numbers=0611118888,0611118889  last=answered 200 at \\S+Z  fails=0 answers=\\d+`, 'm'));

  await line.silent();
  await lineIn(stack, 'FCLI', line.target, 'down');
  const down = await runCli(['lines', '--state', 'down', '--json'], { DATABASE_URL: stack.db.url });
  expect(down.code).toBe(0);
  const [view] = down.stdout.trim().split('\n').map((l) => JSON.parse(l));
  expect(view).toMatchObject({ contractId: 'FCLI', line: line.target, state: 'down', lastResult: 'timeout', numbers: ['0611118888', '0611118889'] });

  const events = await runCli(['lines', 'events', '--contract', 'FCLI'], { DATABASE_URL: stack.db.url });
  expect(events.stdout).toMatch(/故障  FCLI  .*numbers=0611118888,0611118889  一括転送=none  cause=timeout  mails=1/);
});

it('refuses a bad state with the option named', async () => {
  const r = await runCli(['lines', '--state', 'sideways'], { DATABASE_URL: stack.db.url });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--state: expected one of unknown, up, down, got "sideways"');
});

// `chakushin engine` in its own process serves an unmodified drachtio-srf app, and stops on SIGTERM.
import { spawn } from 'node:child_process';
import path from 'node:path';
import Srf from 'drachtio-srf';
import { expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { runSipp, sippSummary } from '../support/sipp.ts';

it('runs standalone, serves a drachtio-srf app over its admin port and exits 0 on SIGTERM', async () => {
  const sipPort = await freePort('both');
  const adminPort = await freePort('tcp');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'run-engine-command.ts'),
    '--sip', `127.0.0.1:${sipPort}`, '--admin', `127.0.0.1:${adminPort}`, '--secret', 'S', '--log-level', 'warn'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const srf = new Srf();
  try {
    srf.use('options', (req, res) => res.send(200, { headers: { Allow: 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO' } }));
    // srf reconnects with back-off until the engine process is listening; refusals surface as 'error'.
    srf.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      srf.connect({ host: '127.0.0.1', port: adminPort, secret: 'S' });
      srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
    });
    const r = await runSipp({ scenario: path.join(import.meta.dirname, '../sipp/engine-uac-options.xml'), remote: { port: sipPort }, service: 'options', calls: 1, timeoutMs: 10_000 });
    expect(r.exitCode, sippSummary(r)).toBe(0);
  } finally {
    srf.disconnect();
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
});

it('rejects a missing secret as a usage error', async () => {
  const { engineCommand } = await import('../../src/cli/commands/engine.ts');
  await expect(engineCommand.run(['--sip', '127.0.0.1:0'])).rejects.toThrow(/--secret is required/);
});

it('refuses drachtio\'s default secret unless told explicitly', async () => {
  const { engineCommand } = await import('../../src/cli/commands/engine.ts');
  await expect(engineCommand.run(['--sip', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--secret', 'cymru']))
    .rejects.toThrow(/published default.*--allow-default-secret/);
  const adminPort = await freePort('tcp');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'run-engine-command.ts'),
    '--sip', `127.0.0.1:${await freePort('both')}`, '--admin', `127.0.0.1:${adminPort}`, '--secret', 'cymru', '--allow-default-secret', '--log-level', 'warn'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const srf = new Srf();
  try {
    srf.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      srf.connect({ host: '127.0.0.1', port: adminPort, secret: 'cymru' });
      srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
    });
  } finally {
    srf.disconnect();
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
});

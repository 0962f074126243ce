// In embedded mode a node, its engine and its workers share a secret nobody else knows: new at every
// start unless ENGINE_SECRET is set. drachtio's published default gets nobody in. The admin socket
// takes a free port unless ENGINE_ADMIN names one, so nodes on one host never clash on it.
import net from 'node:net';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { connectSip, sipTarget } from '../../src/sip-connection.ts';

const env = { SIP_LISTEN: '127.0.0.1:0' };
const logger = createLogger('silent');

/** The engine's verdict on one `authenticate` with this secret. */
async function authenticate(port: number, secret: string): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  const body = `t1|authenticate|${secret}|`;
  sock.write(`${Buffer.byteLength(body)}#${body}`);
  let data = '';
  await new Promise<void>((resolve) => {
    sock.on('data', (d) => { data += d.toString(); if (/^\d+#.*\|(OK|NO)/.test(data)) resolve(); });
    sock.once('close', () => resolve());
  });
  sock.destroy();
  return data.split('|').slice(3, 4).join('');
}

it('makes a new random secret at each start when ENGINE_SECRET is unset; each engine gets an admin port of its own', async () => {
  const [first, second] = await Promise.all([sipTarget(loadConfig({ env }), logger), sipTarget(loadConfig({ env }), logger)]);
  const app = await connectSip(first, logger);
  try {
    expect(app.isConnected()).toBe(true);
    expect(first.host).toBe('127.0.0.1');
    expect(first.port).not.toBe(second.port);
    expect(first.secret).not.toBe(second.secret);
    expect(await authenticate(first.port, 'cymru')).toBe('NO');
    expect(await authenticate(first.port, '')).toBe('NO');
  } finally {
    await app.close();
    await Promise.all([first.engine!.close(), second.engine!.close()]);
  }
});

it('uses ENGINE_SECRET when set', async () => {
  const target = await sipTarget(loadConfig({ env: { ...env, ENGINE_SECRET: 'configured-secret' } }), logger);
  try {
    expect(await authenticate(target.port, 'configured-secret')).toBe('OK');
  } finally {
    await target.engine!.close();
  }
});

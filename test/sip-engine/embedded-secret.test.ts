// In embedded mode the service and its engine share a secret nobody else knows: new at every start
// unless ENGINE_SECRET is set. drachtio's published default gets nobody in.
import net from 'node:net';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { connectSip } from '../../src/sip-connection.ts';

const env = { SIP_LISTEN: '127.0.0.1:0', ENGINE_ADMIN: '127.0.0.1:0' };

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

it('makes a new random secret at each start when ENGINE_SECRET is unset', async () => {
  const first = await connectSip(loadConfig({ env }), createLogger('silent'));
  try {
    expect(first.isConnected()).toBe(true);
    const port = first.engine!.adminAddress.port;
    expect(await authenticate(port, 'cymru')).toBe('NO');
    expect(await authenticate(port, '')).toBe('NO');
  } finally {
    await first.close();
  }
});

it('uses ENGINE_SECRET when set', async () => {
  const sip = await connectSip(loadConfig({ env: { ...env, ENGINE_SECRET: 'configured-secret' } }), createLogger('silent'));
  try {
    expect(sip.isConnected()).toBe(true);
    expect(await authenticate(sip.engine!.adminAddress.port, 'configured-secret')).toBe('OK');
  } finally {
    await sip.close();
  }
});

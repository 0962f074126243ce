import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

describe('config', () => {
  it('runs everything embedded with an empty environment', () => {
    const c = loadConfig({ env: {} });
    expect(c.database.url).toBeUndefined();
    expect(c.smtp.url).toBeUndefined();
    expect(c.sip.drachtio).toBeUndefined();
    expect(c.sip.listen).toEqual({ host: '127.0.0.1', port: 5060 });
    expect(c.http.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.ivr.accessNumbers).toEqual({ A: { east: '0363044747', west: '0664806430' }, B: '0722427142' });
  });

  it('reads the environment', () => {
    const c = loadConfig({ env: { DATABASE_URL: 'postgres://x/y', SIP_LISTEN: '127.0.0.1:5070', TRUSTED_PEERS: '10.0.0.1, 10.0.0.2', RTP_PORT_RANGE: '30000-30100' } });
    expect(c.database.url).toBe('postgres://x/y');
    expect(c.sip.listen.port).toBe(5070);
    expect(c.sip.trustedPeers).toEqual(['10.0.0.1', '10.0.0.2']);
    expect([c.media.rtpPortMin, c.media.rtpPortMax]).toEqual([30000, 30100]);
  });

  it('names every bad key', () => {
    try {
      loadConfig({ env: { SIP_LISTEN: 'nowhere', DRACHTIO_HOST: 'h', RTP_PORT_RANGE: '9-1', LOG_LEVEL: 'loud' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const text = (err as Error).message;
      expect(text).toContain('SIP_LISTEN: expected HOST:PORT, got "nowhere"');
      expect(text).toContain('DRACHTIO_SECRET: required when DRACHTIO_HOST is set');
      expect(text).toContain('RTP_PORT_RANGE: expected MIN-MAX');
    }
    expect(() => loadConfig({ env: { LOG_LEVEL: 'loud' } })).toThrow(/log\.level/);
    expect(() => loadConfig({ env: {}, overrides: { ivr: { maxAttempts: 0 } } })).toThrow(/ivr\.maxAttempts/);
  });

  it('admits only trunk peers unless SIP_ADMIT_UNTRUSTED_SOURCES=true; any other value is named', () => {
    expect(loadConfig({ env: {} }).sip.admitUntrustedSources).toBe(false);
    expect(loadConfig({ env: { SIP_ADMIT_UNTRUSTED_SOURCES: 'true' } }).sip.admitUntrustedSources).toBe(true);
    expect(() => loadConfig({ env: { SIP_ADMIT_UNTRUSTED_SOURCES: 'yes' } })).toThrow('SIP_ADMIT_UNTRUSTED_SOURCES: expected true or false, got "yes"');
  });
});

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

  it('refuses to start with ワンタイムパスワード offered and mail going to a real relay but no public URL for its link', () => {
    const relay = { SMTP_URL: 'smtp://relay.example.jp:25' };
    expect(() => loadConfig({ env: relay })).toThrow(/site\.publicUrl \(SITE_PUBLIC_URL\): required/);
    expect(loadConfig({ env: { ...relay, SITE_PUBLIC_URL: 'https://settings.example.jp' } }).site.publicUrl).toBe('https://settings.example.jp');
    // Without ワンタイムパスワード, or with the built-in catcher (embedded defaults), none is needed.
    expect(loadConfig({ env: relay, overrides: { otp: { regions: { east: false, west: false } } } }).site.publicUrl).toBeUndefined();
    expect(loadConfig({ env: {} }).site.publicUrl).toBeUndefined();
    // An origin only: a path or query would be pasted before /otp/confirm.
    expect(() => loadConfig({ env: { SITE_PUBLIC_URL: 'https://settings.example.jp/x?y' } })).toThrow(/site\.publicUrl/);
  });

  it('admits only trunk peers unless SIP_ADMIT_UNTRUSTED_SOURCES=true; any other value is named', () => {
    expect(loadConfig({ env: {} }).sip.admitUntrustedSources).toBe(false);
    expect(loadConfig({ env: { SIP_ADMIT_UNTRUSTED_SOURCES: 'true' } }).sip.admitUntrustedSources).toBe(true);
    expect(() => loadConfig({ env: { SIP_ADMIT_UNTRUSTED_SOURCES: 'yes' } })).toThrow('SIP_ADMIT_UNTRUSTED_SOURCES: expected true or false, got "yes"');
  });

  it('caps both HTTP listeners by default; the environment overrides each limit, and a head deadline longer than the request\'s is refused', () => {
    const c = loadConfig({ env: {} });
    expect(c.http).toMatchObject({ maxConnections: 64, headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000 });
    expect(c.site).toMatchObject({
      maxConnections: 256, maxConnectionsPerAddress: 32, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 72_000,
      bodyLimitBytes: 65_536, uploadLimitBytes: 2_097_152,
    });
    const e = loadConfig({ env: { HTTP_MAX_CONNECTIONS: '16', SITE_MAX_CONNECTIONS_PER_ADDRESS: '8', SITE_HEADERS_TIMEOUT_MS: '3000', SITE_UPLOAD_LIMIT_BYTES: '1048576' } });
    expect([e.http.maxConnections, e.site.maxConnectionsPerAddress, e.site.headersTimeoutMs, e.site.uploadLimitBytes]).toEqual([16, 8, 3000, 1_048_576]);
    expect(() => loadConfig({ env: { SITE_MAX_CONNECTIONS: 'many' } })).toThrow('SITE_MAX_CONNECTIONS: expected a whole number, got "many"');
    expect(() => loadConfig({ env: { HTTP_MAX_CONNECTIONS: '0' } })).toThrow(/http\.maxConnections/);
    expect(() => loadConfig({ env: { SITE_HEADERS_TIMEOUT_MS: '90000' } })).toThrow('site.headersTimeoutMs: must not exceed site.requestTimeoutMs');
  });
});

// The built-in engine's limits in the config: defaults from the engine's one table, bad values named by key.
import { expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { DEFAULT_LIMITS } from '../../src/sip-engine/limits.ts';

it('defaults sip.engineLimits to the engine\'s own table, and the engine secret to none (random per start)', () => {
  const c = parseConfig({});
  expect(c.sip.engineLimits).toEqual(DEFAULT_LIMITS);
  expect(c.sip.engineSecret).toBeUndefined();
});

it('names a bad limit by its key', () => {
  expect(() => parseConfig({ sip: { engineLimits: { tcpMaxConnections: 0 } } })).toThrow(ConfigError);
  expect(() => parseConfig({ sip: { engineLimits: { tcpMaxConnectionsPerAddress: 1.5 } } })).toThrow(/sip\.engineLimits\.tcpMaxConnectionsPerAddress/);
  expect(() => parseConfig({ sip: { engineSecret: '' } })).toThrow(/sip\.engineSecret/);
  expect(parseConfig({ sip: { engineLimits: { fdReserve: 0 } } }).sip.engineLimits.fdReserve).toBe(0);
});

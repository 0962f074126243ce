// The built-in engine's limits in the config: only what is set overrides the engine's one table of
// defaults (src/sip-engine/limits.ts, filled in by startEngine); bad values named by key.
import { expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';

it('sets no engine limit and no engine secret by default (the engine’s own table; a random secret per start)', () => {
  const c = parseConfig({});
  expect(c.sip.engineLimits).toEqual({});
  expect(c.sip.engineSecret).toBeUndefined();
});

it('keeps exactly the limits set, and names a bad one by its key', () => {
  expect(parseConfig({ sip: { engineLimits: { fdReserve: 0 } } }).sip.engineLimits).toEqual({ fdReserve: 0 });
  expect(() => parseConfig({ sip: { engineLimits: { tcpMaxConnections: 0 } } })).toThrow(ConfigError);
  expect(() => parseConfig({ sip: { engineLimits: { tcpMaxConnectionsPerAddress: 1.5 } } })).toThrow(/sip\.engineLimits\.tcpMaxConnectionsPerAddress/);
  expect(() => parseConfig({ sip: { engineSecret: '' } })).toThrow(/sip\.engineSecret/);
});

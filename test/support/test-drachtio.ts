// Opt-in, for checks by hand: TEST_DRACHTIO=ADMIN_PORT:SECRET:SIP_PORT points the SIPp suites that
// read it (test/voice-warp/*-sipp.test.ts, and the IVR harness) at a real drachtio-server on
// 127.0.0.1 instead of the built-in engine: the app connects to its admin port, SIPp calls its SIP
// port. Unset (always in `npm test`): the built-in engine, as everywhere else.
export interface TestDrachtio {
  adminPort: number;
  secret: string;
  sipPort: number;
}

export function testDrachtio(): TestDrachtio | undefined {
  const v = process.env.TEST_DRACHTIO;
  if (!v) return undefined;
  const m = /^(\d+):([^:]+):(\d+)$/.exec(v);
  if (!m) throw new Error(`TEST_DRACHTIO: expected ADMIN_PORT:SECRET:SIP_PORT, got "${v}"`);
  return { adminPort: Number(m[1]), secret: m[2]!, sipPort: Number(m[3]) };
}

/** TEST_FREESWITCH=ESL_PORT:PASSWORD (with TEST_DRACHTIO): media through a real FreeSWITCH instead of the built-in endpoint. */
export function testFreeswitch(): { eslPort: number; secret: string } | undefined {
  const v = process.env.TEST_FREESWITCH;
  if (!v) return undefined;
  const m = /^(\d+):(.+)$/.exec(v);
  if (!m) throw new Error(`TEST_FREESWITCH: expected ESL_PORT:PASSWORD, got "${v}"`);
  return { eslPort: Number(m[1]), secret: m[2]! };
}

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { accessNumberOf, decide, offersAudio, type AccessNumber, type CallerNumber } from '../../src/ivr/caller-check.ts';
import type { Contract } from '../../src/domain/subscriber.ts';

const { accessNumbers } = parseConfig({}).ivr;

const WEST_A: AccessNumber = { pattern: 'A', region: 'west' };
const EAST_A: AccessNumber = { pattern: 'A', region: 'east' };
const B: AccessNumber = { pattern: 'B' };

function contract(over: Partial<Contract>): Contract {
  return {
    id: 'c1',
    region: 'west',
    pattern: 'A',
    authUnit: 'line',
    numbers: [
      { number: '0612340001', role: 'main', services: ['chakushin_mail'] },
      { number: '0612340002', role: 'additional', services: ['fax_mail'] },
      { number: '0612340003', role: 'additional', services: ['voice_warp'] },
    ],
    authNumbers: [],
    ...over,
  };
}

const num = (number: string): CallerNumber => ({ kind: 'number', number });

describe('accessNumberOf', () => {
  it('maps the configured numbers to pattern and region', () => {
    expect(accessNumberOf('0363044747', accessNumbers)).toEqual(EAST_A);
    expect(accessNumberOf('+81664806430', accessNumbers)).toEqual(WEST_A);
    expect(accessNumberOf('072-242-7142', accessNumbers)).toEqual(B);
    expect(accessNumberOf('0612340001', accessNumbers)).toBeNull();
    expect(accessNumberOf('ivr', accessNumbers)).toBeNull();
  });
});

describe('offersAudio', () => {
  const sdp = (media: string) => `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n${media}`;
  it('an audio stream is a voice call', () => {
    expect(offersAudio(sdp('m=audio 4000 RTP/AVP 0\r\n'))).toBe(true);
    expect(offersAudio(sdp('m=video 4002 RTP/AVP 96\r\nm=audio 4000 RTP/AVP 0 8\r\n'))).toBe(true);
  });
  it('データコネクト (application only), video only, a disabled audio stream or no SDP is not', () => {
    expect(offersAudio(sdp('m=application 4000 udp data\r\n'))).toBe(false);
    expect(offersAudio(sdp('m=video 4002 RTP/AVP 96\r\n'))).toBe(false);
    expect(offersAudio(sdp('m=audio 0 RTP/AVP 0\r\nm=application 4000 udp data\r\n'))).toBe(false);
    expect(offersAudio('')).toBe(false);
  });
});

describe('decide', () => {
  const westA = contract({});
  it('data-only calls are rejected 488 before anything else', () => {
    expect(decide({ hasAudio: false, caller: { kind: 'withheld' }, access: WEST_A, callerAsserted: true }, null)).toEqual({ action: 'reject', status: 488, reason: 'data_only' });
    expect(decide({ hasAudio: false, caller: num('0612340001'), access: WEST_A, callerAsserted: true }, westA)).toMatchObject({ action: 'reject', status: 488 });
  });

  it('withheld callers hear withheld_caller', () => {
    expect(decide({ hasAudio: true, caller: { kind: 'withheld' }, access: WEST_A, callerAsserted: true }, null)).toEqual({
      action: 'announce',
      prompt: 'withheld_caller',
      reason: 'withheld',
    });
  });

  it('a caller that is no contract’s number (mobile, other carrier) hears not_in_service', () => {
    expect(decide({ hasAudio: true, caller: num('09011112222'), access: WEST_A, callerAsserted: true }, null)).toEqual({
      action: 'announce',
      prompt: 'not_in_service',
      reason: 'not_a_contract_number',
    });
    expect(decide({ hasAudio: true, caller: { kind: 'unknown' }, access: B, callerAsserted: true }, null)).toMatchObject({ prompt: 'not_in_service' });
  });

  it('pattern A: main and additional numbers run flow A with their role', () => {
    expect(decide({ hasAudio: true, caller: num('0612340001'), access: WEST_A, callerAsserted: true }, westA)).toEqual({
      action: 'run',
      pattern: 'A',
      caller: { number: '0612340001', role: 'main' },
      contract: westA,
    });
    expect(decide({ hasAudio: true, caller: num('0612340003'), access: WEST_A, callerAsserted: true }, westA)).toMatchObject({
      action: 'run',
      caller: { role: 'additional' },
    });
  });

  it('pattern A: the other region’s access number is not in service', () => {
    expect(decide({ hasAudio: true, caller: num('0612340001'), access: EAST_A, callerAsserted: true }, westA)).toEqual({
      action: 'announce',
      prompt: 'not_in_service',
      reason: 'wrong_access_number',
    });
  });

  it('cross-pattern: B contract dialling A, A contract dialling B: not in service', () => {
    const westB = contract({ pattern: 'B' });
    expect(decide({ hasAudio: true, caller: num('0612340001'), access: WEST_A, callerAsserted: true }, westB)).toMatchObject({ reason: 'wrong_access_number' });
    expect(decide({ hasAudio: true, caller: num('0612340001'), access: B, callerAsserted: true }, westA)).toMatchObject({ reason: 'wrong_access_number' });
  });

  it('pattern A: an auth number is no caller of flow A', () => {
    const withAuth = contract({ authNumbers: ['0612349999'] });
    expect(decide({ hasAudio: true, caller: num('0612349999'), access: WEST_A, callerAsserted: true }, withAuth)).toMatchObject({ reason: 'not_a_contract_number' });
  });

  it('pattern B: a number with a mail service runs flow B; one without is not in service', () => {
    const eastB = contract({ pattern: 'B', region: 'east' });
    expect(decide({ hasAudio: true, caller: num('0612340002'), access: B, callerAsserted: true }, eastB)).toEqual({
      action: 'run',
      pattern: 'B',
      caller: { number: '0612340002', role: 'additional' },
      contract: eastB,
    });
    expect(decide({ hasAudio: true, caller: num('0612340003'), access: B, callerAsserted: true }, eastB)).toEqual({
      action: 'announce',
      prompt: 'not_in_service',
      reason: 'no_mail_service',
    });
  });

  it('pattern B: an 認証用番号 runs flow B as auth; a number the contract does not hold is refused', () => {
    const westB = contract({ pattern: 'B', authNumbers: ['0612349999'] });
    expect(decide({ hasAudio: true, caller: num('0612349999'), access: B, callerAsserted: true }, westB)).toEqual({
      action: 'run',
      pattern: 'B',
      caller: { number: '0612349999', role: 'auth' },
      contract: westB,
    });
    expect(decide({ hasAudio: true, caller: num('0612348888'), access: B, callerAsserted: true }, westB)).toMatchObject({ reason: 'not_a_contract_number' });
  });
});

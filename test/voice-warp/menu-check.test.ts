// Who may set ボイスワープ by phone (src/ivr/voice-warp-menu.ts): pure, every branch.
import { describe, expect, it } from 'vitest';
import { decideVoiceWarp } from '../../src/ivr/voice-warp-menu.ts';
import type { Contract } from '../../src/domain/subscriber.ts';

const contract: Contract = {
  id: 'C1', region: 'west', pattern: 'B', authUnit: 'number',
  numbers: [
    { number: '0611112222', role: 'main', services: ['voice_warp'] },
    { number: '0611113333', role: 'additional', services: ['chakushin_mail'] },
  ],
  authNumbers: ['0699990000'],
};
const facts = (number: string | 'withheld' | 'unknown', over: { hasAudio?: boolean; callerAsserted?: boolean } = {}) => ({
  hasAudio: over.hasAudio ?? true,
  callerAsserted: over.callerAsserted ?? true,
  caller: number === 'withheld' ? { kind: 'withheld' as const } : number === 'unknown' ? { kind: 'unknown' as const } : { kind: 'number' as const, number },
});

describe('ボイスワープ phone menu: caller check', () => {
  it('runs for the caller’s own line with voice_warp, whatever the contract’s pattern or role', () => {
    expect(decideVoiceWarp(facts('0611112222'), contract)).toEqual({ action: 'run', number: '0611112222' });
  });

  it.each([
    ['no audio', facts('0611112222', { hasAudio: false }), contract, { action: 'reject', reason: 'data_only' }],
    ['withheld', facts('withheld'), contract, { action: 'announce', prompt: 'withheld_caller', reason: 'withheld' }],
    ['no number', facts('unknown'), contract, { action: 'announce', reason: 'not_a_contract_number' }],
    ['no contract', facts('0698765432'), null, { action: 'announce', reason: 'not_a_contract_number' }],
    ['not asserted by a trunk peer', facts('0611112222', { callerAsserted: false }), contract, { action: 'announce', reason: 'caller_not_asserted' }],
    ['an 認証用番号, no line of the contract', facts('0699990000'), contract, { action: 'announce', reason: 'not_a_contract_number' }],
    ['a line without voice_warp', facts('0611113333'), contract, { action: 'announce', prompt: 'not_in_service', reason: 'no_voice_warp' }],
  ] as const)('refuses: %s', (_, f, c, expected) => {
    expect(decideVoiceWarp(f, c)).toMatchObject(expected);
  });
});

import { describe, expect, it } from 'vitest';
import {
  DESTINATION_MESSAGES,
  destinationRefusal,
  forwardsOnBusy,
  forwardsOnNoAnswer,
  normaliseDialled,
  ringSecondsRefusal,
  selectAllowsForward,
  selectListRefusal,
  startRefusal,
} from '../../src/domain/voice-warp.ts';

const OWN = '0611112222';

describe('転送先電話番号', () => {
  it.each([
    ['0612345678', 'a fixed line'],
    ['09012345678', 'a mobile'],
    ['05012345678', 'an IP phone'],
    ['0611113333', 'another number of the same contract'],
    ['06-1234-5678', 'a number typed with hyphens'],
    ['０６１２３４５６７８', 'full-width digits'],
  ])('accepts %s (%s)', (d) => {
    expect(destinationRefusal(d, OWN)).toBeUndefined();
  });

  it.each([
    ['', 'required'],
    [OWN, 'own_number'],
    ['06-1111-2222', 'own_number'],
    ['110', 'short_number'],
    ['119', 'short_number'],
    ['104', 'short_number'],
    ['117', 'short_number'],
    ['1717', 'short_number'],
    ['#8000', 'hash_number'],
    ['＃9110', 'hash_number'],
    ['0612#45678', 'hash_number'],
    ['0120123456', 'free_dial'],
    ['08001234567', 'free_dial'],
    ['0570123456', 'navi_dial'],
    ['0990123456', 'dial_q2'],
    ['0170123456', 'dengon_dial'],
    ['0180123456', 'teledome'],
    ['010441234567890', 'international'],
    ['0101234567', 'international'],
    ['0011234567890', 'carrier_prefix'],
    ['00330612345678', 'carrier_prefix'],
    ['00410612345678', 'carrier_prefix'],
    ['00700612345678', 'carrier_prefix'],
    ['00770612345678', 'carrier_prefix'],
    ['00810612345678', 'carrier_prefix'],
    ['00860612345678', 'carrier_prefix'],
    ['00880612345678', 'carrier_prefix'],
    ['061234567', 'format'],
    ['061234567890', 'format'],
    ['6123456789', 'format'],
    ['06abc45678', 'format'],
  ])('refuses %j: %s', (d, rule) => {
    expect(destinationRefusal(d, OWN)).toBe(rule);
  });

  it('names the rule in every message', () => {
    expect(DESTINATION_MESSAGES.short_number).toContain('110');
    expect(DESTINATION_MESSAGES.free_dial).toContain('0120');
    expect(DESTINATION_MESSAGES.navi_dial).toContain('0570');
    expect(DESTINATION_MESSAGES.dial_q2).toContain('0990');
    expect(DESTINATION_MESSAGES.dengon_dial).toContain('0170');
    expect(DESTINATION_MESSAGES.international).toContain('010');
    expect(DESTINATION_MESSAGES.carrier_prefix).toContain('0077');
    expect(DESTINATION_MESSAGES.own_number).toContain('ご自身');
  });

  it('normalises what a form or keypad gives', () => {
    expect(normaliseDialled(' 06-1234-5678 ')).toBe('0612345678');
    expect(normaliseDialled('０６（１２３４）５６７８')).toBe('0612345678');
  });
});

describe('呼出秒数', () => {
  it('is a whole number of seconds from 5 to 60', () => {
    for (const ok of [5, 20, 60]) expect(ringSecondsRefusal(ok)).toBeUndefined();
    for (const bad of [4, 61, 0, 20.5, '20', null]) expect(ringSecondsRefusal(bad)).toContain('5秒から60秒');
  });
});

describe('開始', () => {
  it('needs a 転送先', () => {
    expect(startRefusal({ started: true, destination: null })).toContain('転送先');
    expect(startRefusal({ started: true, destination: '0612345678' })).toBeUndefined();
    expect(startRefusal({ started: false, destination: null })).toBeUndefined();
  });
});

describe('転送条件', () => {
  it('busy and no-answer forwards', () => {
    expect([forwardsOnBusy('unconditional'), forwardsOnBusy('busy'), forwardsOnBusy('no_answer'), forwardsOnBusy('busy_no_answer')]).toEqual([false, true, false, true]);
    expect([forwardsOnNoAnswer('unconditional'), forwardsOnNoAnswer('busy'), forwardsOnNoAnswer('no_answer'), forwardsOnNoAnswer('busy_no_answer')]).toEqual([false, false, true, true]);
  });
});

describe('セレクト機能', () => {
  it('登録番号転送 forwards listed callers only; 登録番号着信 forwards everyone else', () => {
    expect(selectAllowsForward({ started: true, mode: 'forward_listed' }, true)).toBe(true);
    expect(selectAllowsForward({ started: true, mode: 'forward_listed' }, false)).toBe(false);
    expect(selectAllowsForward({ started: true, mode: 'ring_listed' }, true)).toBe(false);
    expect(selectAllowsForward({ started: true, mode: 'ring_listed' }, false)).toBe(true);
    expect(selectAllowsForward({ started: false, mode: 'forward_listed' }, false)).toBe(true);
  });

  it('the list holds national numbers, each once, up to the maximum', () => {
    expect(selectListRefusal(['0612345678', '09012345678'], 30)).toBeUndefined();
    expect(selectListRefusal(['0612345678', '0612345678'], 30)).toMatchObject({ index: 1, refusal: 'duplicate' });
    expect(selectListRefusal(['0612345678', '110'], 30)).toMatchObject({ index: 1, refusal: 'format' });
    expect(selectListRefusal(Array.from({ length: 31 }, (_, i) => `06123456${String(i).padStart(2, '0')}`), 30)).toMatchObject({ index: 30, refusal: 'too_many' });
  });
});

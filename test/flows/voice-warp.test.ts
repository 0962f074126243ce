// The ボイスワープ phone menu (flows/voice-warp.ts) under createActor, with a scripted keypad.
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, toPromise } from 'xstate';
import { voiceWarpFlow, type SaveInput, type VoiceWarpFlowInput, type VoiceWarpOutcome } from '../../flows/voice-warp.ts';
import { applyVoiceWarpChange, defaultVoiceWarpSettings, type VoiceWarpSettings } from '../../src/domain/voice-warp.ts';
import { options, promptTrail, scriptedActors } from './scripted-caller.ts';

const OWN = '0612340001';
const DEST = '09012345678';
const registered: VoiceWarpSettings = { ...defaultVoiceWarpSettings(20), destination: DEST };

async function run(settings: VoiceWarpSettings, answers: string[], opts: { saveFails?: boolean; maxAttempts?: number } = {}) {
  const { actors, record } = scriptedActors(answers);
  const saves: SaveInput[] = [];
  const save = fromPromise<VoiceWarpSettings, SaveInput>(async ({ input }) => {
    saves.push(input);
    if (opts.saveFails) throw new Error('database unavailable');
    const r = applyVoiceWarpChange(settings, input.change, input.number, { selectListMax: 30 });
    if ('errors' in r) throw new Error(Object.values(r.errors).join(' '));
    return r.settings;
  });
  const input: VoiceWarpFlowInput = { number: OWN, settings, options: { ...options, maxAttempts: opts.maxAttempts ?? 3 } };
  const actor = createActor(voiceWarpFlow.provide({ actors: { ask: actors.ask, say: actors.say, save } }), { input });
  actor.start();
  const output: VoiceWarpOutcome = await toPromise(actor);
  return { output, record, saves, trail: promptTrail(record) };
}

describe('ボイスワープ by phone: 開始 with each 転送条件', () => {
  for (const [key, condition, prompt] of [
    ['1', 'unconditional', 'vw_cond_unconditional'],
    ['2', 'busy', 'vw_cond_busy'],
    ['3', 'no_answer', 'vw_cond_no_answer'],
    ['4', 'busy_no_answer', 'vw_cond_busy_no_answer'],
  ] as const) {
    it(`1 then ${key}: started with ${condition}, said back`, async () => {
      const { output, saves, trail } = await run(registered, ['1', key]);
      expect(saves).toEqual([{ number: OWN, change: { part: 'start', started: true, condition, ringSeconds: 20, guidance: false } }]);
      expect(trail).toEqual(['vw_menu', 'vw_condition_menu', prompt, 'vw_started_after_condition']);
      expect(output).toEqual({ outcome: 'completed', action: 'start' });
    });
  }

  it('1 without a 転送先: told why, back to the menu, nothing saved', async () => {
    const { output, saves, trail } = await run(defaultVoiceWarpSettings(20), ['1']);
    expect(saves).toEqual([]);
    expect(trail).toEqual(['vw_menu', 'vw_no_destination', 'vw_menu']);
    expect(output).toEqual({ outcome: 'caller_hung_up', failedStep: 'menu' });
  });

  it('a wrong 転送条件 key is retried, three wrong ones end the call', async () => {
    const { output, trail } = await run(registered, ['1', '5', '0', '#']);
    expect(trail).toEqual(['vw_menu', 'vw_condition_menu', 'a_invalid', 'vw_condition_menu', 'a_invalid', 'vw_condition_menu', 'a_three_strikes']);
    expect(output).toEqual({ outcome: 'failed_3_strikes', failedStep: 'condition' });
  });
});

describe('ボイスワープ by phone: 停止, 呼出秒数, 現在の設定', () => {
  it('0 stops, keeping the rest', async () => {
    const { output, saves, trail } = await run({ ...registered, started: true, condition: 'busy', ringSeconds: 30 }, ['0']);
    expect(saves[0]!.change).toEqual({ part: 'start', started: false, condition: 'busy', ringSeconds: 30, guidance: false });
    expect(trail).toEqual(['vw_menu', 'vw_stopped']);
    expect(output).toEqual({ outcome: 'completed', action: 'stop' });
  });

  it('3 sets 呼出秒数 from 5 to 60, with # (or a pause); others are refused', async () => {
    const { saves, trail } = await run(registered, ['3', '4#', '61#', '15#']);
    expect(saves[0]!.change).toMatchObject({ part: 'start', ringSeconds: 15, started: false });
    expect(trail).toEqual(['vw_menu', 'vw_enter_ring_seconds', 'a_invalid', 'vw_enter_ring_seconds', 'a_invalid', 'vw_enter_ring_seconds', '#15', 'vw_ring_seconds_set_after_number']);
    const paused = await run(registered, ['3', '60']);
    expect(paused.saves[0]!.change).toMatchObject({ ringSeconds: 60 });
  });

  it('8 reads back the condition, the 転送先 and the 呼出秒数, then the menu again', async () => {
    const { output, trail } = await run({ ...registered, started: true, condition: 'no_answer', ringSeconds: 25 }, ['8', '0']);
    expect(trail).toEqual([
      'vw_menu', 'vw_status_intro', 'vw_status_started', 'vw_status_condition', 'vw_cond_no_answer', 'vw_desu',
      'vw_status_destination', `#${DEST}`, 'vw_ban_desu', 'vw_status_ring_seconds', '#25', 'vw_byou_desu',
      'vw_menu', 'vw_stopped',
    ]);
    expect(output).toEqual({ outcome: 'completed', action: 'stop' });
    const none = await run(defaultVoiceWarpSettings(20), ['8']);
    expect(none.trail).toContain('vw_status_no_destination');
    expect(none.trail).toContain('vw_status_stopped');
  });

  it('a database that cannot save: 「ただいま…受け付けることができません」, store_failed', async () => {
    const { output, trail } = await run(registered, ['0'], { saveFails: true });
    expect(trail).toEqual(['vw_menu', 'vw_unavailable']);
    expect(output).toEqual({ outcome: 'store_failed', failedStep: 'save' });
  });
});

describe('ボイスワープ by phone: 転送先登録', () => {
  it('2, the number and #, read back, 1 confirms', async () => {
    const { output, saves, trail } = await run(defaultVoiceWarpSettings(20), ['2', `${DEST}#`, '1']);
    expect(trail).toEqual(['vw_menu', 'vw_enter_destination', `#${DEST}`, 'vw_confirm_destination_after_number', `#${DEST}`, 'vw_destination_set_after_number']);
    expect(saves).toEqual([{ number: OWN, change: { part: 'destination', destination: DEST } }]);
    expect(output).toEqual({ outcome: 'completed', action: 'destination' });
  });

  it('2 at the read-back enters the number again', async () => {
    const { saves } = await run(defaultVoiceWarpSettings(20), ['2', '0612345678#', '2', `${DEST}#`, '1']);
    expect(saves).toEqual([{ number: OWN, change: { part: 'destination', destination: DEST } }]);
  });

  it('a refused 転送先 is told why (each counts as a strike); three end the call', async () => {
    const { output, saves, trail } = await run(defaultVoiceWarpSettings(20), ['2', `${OWN}#`, '0120123456#', '0033123456789#']);
    expect(trail).toEqual([
      'vw_menu', 'vw_enter_destination', 'vw_refused_own', 'vw_enter_destination', 'vw_refused_special', 'vw_enter_destination', 'a_three_strikes',
    ]);
    expect(saves).toEqual([]);
    expect(output).toEqual({ outcome: 'failed_3_strikes', failedStep: 'destination' });
  });

  it('110, an international number and a short entry: each refused with its notice', async () => {
    const { trail, saves } = await run(defaultVoiceWarpSettings(20), ['2', '110#', '010441234567#', '0612#', `${DEST}#`, '1'], { maxAttempts: 4 });
    expect(trail.slice(0, 8)).toEqual([
      'vw_menu', 'vw_enter_destination', 'vw_refused_special', 'vw_enter_destination', 'vw_refused_international', 'vw_enter_destination', 'a_invalid', 'vw_enter_destination',
    ]);
    expect(saves).toHaveLength(1);
  });
});

describe('ボイスワープ by phone: the menu', () => {
  it('three wrong keys end the call; a hang-up ends it quietly', async () => {
    const wrong = await run(registered, ['5', '9', '']);
    expect(wrong.trail).toEqual(['vw_menu', 'a_invalid', 'vw_menu', 'a_invalid', 'vw_menu', 'a_three_strikes']);
    expect(wrong.output).toEqual({ outcome: 'failed_3_strikes', failedStep: 'menu' });
    const gone = await run(registered, ['2']);
    expect(gone.output).toEqual({ outcome: 'caller_hung_up', failedStep: 'destination' });
  });
});

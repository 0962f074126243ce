// ボイスワープ settings: provisioning (through the real CLI) and the store API the phone menu uses
// and the settings site will use (one part per form, stale-form check, rules, audit rows).
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyVoiceWarpChange, defaultVoiceWarpSettings } from '../../src/domain/voice-warp.ts';
import { applyProvisioning, ProvisioningError } from '../../src/store/provisioning.ts';
import { readVoiceWarpSettings, saveVoiceWarpChange, StaleFormError, VoiceWarpRefusedError } from '../../src/store/voice-warp-settings.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const LIMITS = { ringSecondsDefault: 20, selectListMax: 30 };
const voiceWarp = {
  started: true, condition: 'busy_no_answer', destination: '09012345678', ringSeconds: 15, guidance: true,
  select: { started: true, mode: 'ring_listed', list: ['0612345678', '0698765432'] },
};
const example = {
  contracts: [{
    id: 'VW001', region: 'west', pattern: 'A', authUnit: 'line',
    numbers: [
      { number: '0641112222', role: 'main', services: ['chakushin_mail', 'voice_warp'], voiceWarp,
        notify: { started: true, destinations: [{ address: 'a@example.jp', send: true }] } },
      { number: '0641113333', role: 'additional', services: ['voice_warp'] },
    ],
  }],
};

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-vw-'));
});
afterAll(async () => {
  await db?.drop();
});

async function file(name: string, content: unknown): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, JSON.stringify(content));
  return p;
}

describe('provisioning the ボイスワープ settings', () => {
  it('round trip: what the file says is what `chakushin voice-warp show` reads back; loading it twice changes nothing', async () => {
    const p = await file('vw.json', example);
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['provision', p], { DATABASE_URL: db.url });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const shown = await runCli(['voice-warp', 'show', '0641112222', '--json'], { DATABASE_URL: db.url });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual({ number: '0641112222', subscribed: true, voiceWarp });
    // A number without a block: the service as delivered (stopped), 呼出秒数 the configured default.
    const bare = await runCli(['voice-warp', 'show', '0641113333'], { DATABASE_URL: db.url });
    expect(bare.stdout).toContain('0641113333: 停止 転送条件=無条件転送 転送先=(未登録) 呼出秒数=20');
    expect((await runCli(['voice-warp', 'show', '0649999999'], { DATABASE_URL: db.url })).code).toBe(1);
  });

  it('a block without ringSeconds follows the configured default', async () => {
    const c = structuredClone(example) as any;
    c.contracts[0].numbers[0].voiceWarp = { started: false, destination: '0612345678' };
    await applyProvisioning(db.pool, c);
    expect((await readVoiceWarpSettings(db.pool, '0641112222', 25)).ringSeconds).toBe(25);
    await applyProvisioning(db.pool, example);
  });

  it('refuses a bad file listing every ボイスワープ rule broken, by path, and writes nothing', async () => {
    const bad = structuredClone(example) as any;
    const n = bad.contracts[0].numbers;
    n[0].voiceWarp = { ...voiceWarp, destination: '0120123456', ringSeconds: 61, condition: 'sometimes', select: { started: true, mode: 'ring_listed', list: Array(31).fill('0612345678') } };
    n[1].voiceWarp = { started: true };
    bad.contracts[0].numbers.push({ number: '0641114444', role: 'additional', services: ['chakushin_mail'], voiceWarp: { destination: '0641114444' } });
    const p = await file('bad.json', bad);
    for (const args of [['provision', p, '--check'], ['provision', p]]) {
      const r = await runCli(args, { DATABASE_URL: db.url });
      expect(r.code).toBe(1);
      for (const expected of [
        'contracts[0].numbers[0].voiceWarp.condition: Invalid enum value',
        'contracts[0].numbers[0].voiceWarp.ringSeconds: Number must be less than or equal to 60',
        'contracts[0].numbers[0].voiceWarp.destination: free_dial: フリーダイヤル（0120、0800）は転送先に設定できません。',
        'contracts[0].numbers[0].voiceWarp.select.list: セレクト機能の電話番号は30件まで登録できます。',
        'contracts[0].numbers[1].voiceWarp.started: 転送先電話番号を設定してから開始してください。',
        'contracts[0].numbers[2].voiceWarp: voiceWarp settings given but the number does not subscribe voice_warp',
        'contracts[0].numbers[2].voiceWarp.destination: own_number: お客さまご自身の電話番号は転送先に設定できません。',
      ]) expect(r.stderr).toContain(expected);
    }
    expect((await readVoiceWarpSettings(db.pool, '0641112222', 20)).ringSeconds).toBe(15);
  });

  it('a number dropped from voice_warp loses its settings', async () => {
    const c = structuredClone(example) as any;
    c.contracts[0].numbers[0].services = ['chakushin_mail'];
    delete c.contracts[0].numbers[0].voiceWarp;
    await applyProvisioning(db.pool, c);
    expect((await readVoiceWarpSettings(db.pool, '0641112222', 20)).version).toBe(0);
    await applyProvisioning(db.pool, example);
    await expect(applyProvisioning(db.pool, { contracts: [{ ...example.contracts[0], numbers: [{ ...(example.contracts[0] as any).numbers[0], voiceWarp: { destination: '110' } }] }] }))
      .rejects.toBeInstanceOf(ProvisioningError);
  });
});

describe('the store API (one form part at a time)', () => {
  const NUMBER = '0641113333';
  const who = (at = new Date()) => ({ actor: NUMBER, source: '192.0.2.7', at });

  it('saves each part with its audit row, refuses what the rules refuse, and a stale form', async () => {
    await applyProvisioning(db.pool, example);
    let s = await readVoiceWarpSettings(db.pool, NUMBER, 20);
    expect(s).toMatchObject({ version: 0, started: false, destination: null });
    // 開始 without a 転送先: refused, nothing written.
    await expect(saveVoiceWarpChange(db.pool, NUMBER, { part: 'start', started: true, condition: 'no_answer', ringSeconds: 20, guidance: false }, who(), LIMITS, s.version))
      .rejects.toMatchObject({ errors: { started: '転送先電話番号を設定してから開始してください。' } });
    s = await readVoiceWarpSettings(db.pool, NUMBER, 20);
    s = await saveVoiceWarpChange(db.pool, NUMBER, { part: 'destination', destination: '06-9876-5432' }, who(), LIMITS, s.version);
    expect(s.destination).toBe('0698765432');
    const drawn = s.version;
    s = await saveVoiceWarpChange(db.pool, NUMBER, { part: 'start', started: true, condition: 'no_answer', ringSeconds: 10, guidance: true }, who(), LIMITS, drawn);
    expect(s).toMatchObject({ started: true, condition: 'no_answer', ringSeconds: 10, guidance: true });
    // A second window drawn before that save is refused.
    await expect(saveVoiceWarpChange(db.pool, NUMBER, { part: 'destination', destination: '0611110000' }, who(), LIMITS, drawn)).rejects.toBeInstanceOf(StaleFormError);
    // Removing the 転送先 while started is refused.
    await expect(saveVoiceWarpChange(db.pool, NUMBER, { part: 'destination', destination: null }, who(), LIMITS, s.version)).rejects.toBeInstanceOf(VoiceWarpRefusedError);
    await expect(saveVoiceWarpChange(db.pool, NUMBER, { part: 'select', started: true, mode: 'forward_listed' }, who(), LIMITS, s.version))
      .rejects.toMatchObject({ errors: { select: expect.stringContaining('リスト') } });
    s = await saveVoiceWarpChange(db.pool, NUMBER, { part: 'select_list', list: ['0612345678', '090-1234-5678'] }, who(), LIMITS, s.version);
    expect(s.select.list).toEqual(['0612345678', '09012345678']);
    await expect(saveVoiceWarpChange(db.pool, NUMBER, { part: 'select_list', list: ['0612345678', '0612345678'] }, who(), LIMITS, s.version))
      .rejects.toMatchObject({ errors: { list2: 'この電話番号はすでに登録されています。' } });
    s = await saveVoiceWarpChange(db.pool, NUMBER, { part: 'select', started: true, mode: 'forward_listed' }, who(), LIMITS, s.version);
    // The phone menu changes what is saved now (no form version).
    s = await saveVoiceWarpChange(db.pool, NUMBER, { part: 'start', started: false, condition: s.condition, ringSeconds: s.ringSeconds, guidance: s.guidance }, { actor: 'ivr', at: new Date() }, LIMITS);
    expect(s.started).toBe(false);
    const audit = (await db.pool.query(`select actor, action, detail, source from audit_log where subject = $1 and action like 'voice_warp.%' order by id`, [NUMBER])).rows;
    expect(audit.map((a) => a.action)).toEqual(['voice_warp.destination', 'voice_warp.start', 'voice_warp.select_list', 'voice_warp.select', 'voice_warp.start']);
    expect(audit[1]).toMatchObject({ actor: NUMBER, source: '192.0.2.7', detail: { started: true, condition: 'no_answer', ringSeconds: 10, guidance: true } });
    expect(audit[4]).toMatchObject({ actor: 'ivr', source: null, detail: { started: false } });
  });

  it('a form drawn before the number had settings is stale once provisioning gave it some', async () => {
    const without = structuredClone(example) as any;
    delete without.contracts[0].numbers[0].voiceWarp;
    await applyProvisioning(db.pool, without);
    const drawn = (await readVoiceWarpSettings(db.pool, '0641112222', 20)).version;
    expect(drawn).toBe(0);
    // A block without a セレクト list: the row is inserted and never updated (still its first version).
    const bare = structuredClone(example) as any;
    bare.contracts[0].numbers[0].voiceWarp = { started: false, destination: '0612345678' };
    await applyProvisioning(db.pool, bare);
    await expect(saveVoiceWarpChange(db.pool, '0641112222', { part: 'destination', destination: '0611110000' }, who(), LIMITS, drawn)).rejects.toBeInstanceOf(StaleFormError);
    expect((await readVoiceWarpSettings(db.pool, '0641112222', 20)).destination).toBe('0612345678');
    await applyProvisioning(db.pool, example);
  });

  it('the rules are one pure function the site can run before saving', () => {
    const current = defaultVoiceWarpSettings(20);
    expect(applyVoiceWarpChange(current, { part: 'destination', destination: '119' }, NUMBER, LIMITS)).toEqual({ errors: { destination: expect.stringContaining('119') } });
    expect(applyVoiceWarpChange(current, { part: 'start', started: false, condition: 'busy', ringSeconds: 4, guidance: false }, NUMBER, LIMITS)).toEqual({ errors: { ringSeconds: expect.stringContaining('5秒') } });
  });
});

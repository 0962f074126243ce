import { UsageError, type Command } from '../command.ts';
import { parseArgs } from '../args.ts';
import { isNationalNumber } from '../../domain/phone-number.ts';
import { CONDITION_NAMES, SELECT_MODE_NAMES } from '../../domain/voice-warp.ts';

export const voiceWarpCommand: Command = {
  name: 'voice-warp',
  summary: 'ボイスワープ settings of a number, as the call path reads them',
  help: `Usage: chakushin voice-warp show NUMBER [--json]

Prints the ボイスワープ (call forwarding) settings of NUMBER (national format, no
hyphens): 開始/停止, 転送条件, 転送先, 呼出秒数 (the configured default when the number
has none), 転送ガイダンス and セレクト機能 with its list. --json prints the same fields as
the provisioning file's voiceWarp block. Exit code 1 when NUMBER is not provisioned.`,
  async run(args) {
    const { positional, flags } = parseArgs(args, { booleans: ['json'] });
    const [sub, number] = positional;
    if (sub !== 'show' || positional.length !== 2) throw new UsageError('usage: chakushin voice-warp show NUMBER');
    if (!isNationalNumber(number)) throw new UsageError(`NUMBER: "${number}" is not a national number (0 and 9–10 digits, no hyphens)`);
    const [{ withDatabase }, { readVoiceWarpSettings }] = await Promise.all([import('../context.ts'), import('../../store/voice-warp-settings.ts')]);
    const found = await withDatabase(async (db, config) => {
      const { rows } = await db.pool.query<{ services: string[] }>('select services from phone_number where number = $1', [number]);
      if (!rows[0]) return undefined;
      return { services: rows[0].services, settings: await readVoiceWarpSettings(db.pool, number, config.voiceWarp.ringSecondsDefault) };
    });
    if (!found) {
      console.error(`${number}: not provisioned`);
      return 1;
    }
    const { number: _n, version: _v, ...s } = found.settings;
    if (flags.has('json')) {
      console.log(JSON.stringify({ number, subscribed: found.services.includes('voice_warp'), voiceWarp: s }));
      return 0;
    }
    if (!found.services.includes('voice_warp')) console.log(`${number}: does not subscribe voice_warp`);
    console.log(
      `${number}: ${s.started ? '開始' : '停止'} 転送条件=${CONDITION_NAMES[s.condition]} 転送先=${s.destination ?? '(未登録)'} ` +
        `呼出秒数=${s.ringSeconds} 転送ガイダンス=${s.guidance ? 'あり' : 'なし'} ` +
        `セレクト機能=${s.select.started ? '開始' : '停止'}(${SELECT_MODE_NAMES[s.select.mode]}) リスト=${s.select.list.join(',') || '(なし)'}`,
    );
    return 0;
  },
};

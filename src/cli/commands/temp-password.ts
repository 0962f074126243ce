import { UsageError, type Command } from '../command.ts';
import { parseArgs } from '../args.ts';
import { isNationalNumber } from '../../domain/phone-number.ts';

export const tempPasswordCommand: Command = {
  name: 'temp-password',
  summary: 'temp password (仮パスワード) state of a number',
  help: `Usage: chakushin temp-password status NUMBER [--json]

Tells whether NUMBER (national format, no hyphens) has a valid temp password and when
it expires, per realm (site = pattern A settings site; chakushin_mail / fax_mail =
pattern B per-service). The password itself is never shown: only its hash is stored.
Exit code 0 when a valid temp password exists, 1 when none does.`,
  async run(args) {
    const { positional, flags } = parseArgs(args, { booleans: ['json'] });
    const [sub, number] = positional;
    if (sub !== 'status' || positional.length !== 2) throw new UsageError('usage: chakushin temp-password status NUMBER');
    if (!isNationalNumber(number)) throw new UsageError(`NUMBER: "${number}" is not a national number (0 and 9–10 digits, no hyphens)`);
    const [{ withDatabase }, { tempPasswordStatus }] = await Promise.all([import('../context.ts'), import('../../store/temp-passwords.ts')]);
    const status = await withDatabase((db, config) => tempPasswordStatus(db.pool, number, config.site.tempPasswordMaxFailures));
    if (flags.has('json')) console.log(JSON.stringify({ number, tempPasswords: status }));
    else if (!status.length) console.log(`${number}: no temp password`);
    else for (const s of status) {
      const unit = s.authUnit ? ` unit=${s.authUnit}` : '';
      console.log(`${number}: realm=${s.realm}${unit} state=${s.state} set=${s.createdAt.toISOString()} expires=${s.expiresAt.toISOString()}`);
    }
    return status.some((s) => s.valid) ? 0 : 1;
  },
};

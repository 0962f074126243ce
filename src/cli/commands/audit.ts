import { UsageError, type Command } from '../command.ts';
import { parseArgs } from '../args.ts';
import { isNationalNumber } from '../../domain/phone-number.ts';
import { tokyoTime } from '../../mail/format.ts';
import type { AuditRow } from '../../store/audit.ts';

export const auditCommand: Command = {
  name: 'audit',
  summary: 'audit log: site logins, failures, locks, password and settings changes',
  help: `Usage: chakushin audit [--number NUMBER] [--action PREFIX] [--limit N] [--json]

Newest first. Each line: time (Japan), who, what, which number, from which address, details.
  --number  entries about NUMBER or done by it
  --action  actions starting with PREFIX (login, lock, password, chakushin_mail, temp_password …)
  --limit   how many (default 50)
  --json    one JSON object a line
Passwords, temp passwords and entered digits are never written to the log.`,
  async run(args) {
    const { positional, flags } = parseArgs(args, { values: ['number', 'action', 'limit'], booleans: ['json'] });
    if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
    const number = flags.get('number') as string | undefined;
    if (number !== undefined && !isNationalNumber(number)) throw new UsageError(`--number: "${number}" is not a national number (0 and 9–10 digits, no hyphens)`);
    const limitText = (flags.get('limit') as string | undefined) ?? '50';
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new UsageError(`--limit: expected a positive whole number, got "${limitText}"`);
    const action = flags.get('action') as string | undefined;
    const [{ withDatabase }, { listAudit }] = await Promise.all([import('../context.ts'), import('../../store/audit.ts')]);
    const rows = await withDatabase((db) => listAudit(db.pool, { number, action, limit: Number(limitText) }));
    for (const r of rows) console.log(flags.has('json') ? JSON.stringify(r) : line(r));
    if (!rows.length && !flags.has('json')) console.log('no audit entries');
    return 0;
  },
};

function line(r: AuditRow): string {
  const detail = Object.keys(r.detail).length ? ` ${JSON.stringify(r.detail)}` : '';
  return `${tokyoTime(r.at)} ${r.actor} ${r.action} ${r.subject ?? '-'} from=${r.source ?? '-'}${detail}`;
}

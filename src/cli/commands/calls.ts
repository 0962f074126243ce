import { UsageError, type Command } from '../command.ts';
import { parseArgs } from '../args.ts';
import type { CallLogEntry } from '../../store/call-log.ts';

function line(c: CallLogEntry): string {
  const fields = Object.entries(c)
    .filter(([k, v]) => !['kind', 'at'].includes(k) && v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  return `${c.at} ${c.kind.padEnd(6)} ${fields.join(' ')}`;
}

export const callsCommand: Command = {
  name: 'calls',
  summary: 'recent call records (IVR calls and 着信 on the notify path)',
  help: `Usage: chakushin calls [--limit N] [--kind ivr|notify] [--json]

Lists recent calls, newest first.
  ivr     calls to a temp-password access number: caller, pattern, unit, target,
          outcome (completed, failed_3_strikes, caller_hung_up, rejected, store_failed,
          cut_off = hung up by a service shutdown), reason
  notify  着信 to subscribed numbers: caller or 非通知理由, 着信状態, 呼出時間, mails queued
  --json  one JSON object a line`,
  async run(args) {
    const { flags } = parseArgs(args, { values: ['limit', 'kind'], booleans: ['json'] });
    const limitText = (flags.get('limit') as string | undefined) ?? '20';
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new UsageError(`--limit: expected a positive whole number, got "${limitText}"`);
    const kind = flags.get('kind') as string | undefined;
    if (kind !== undefined && kind !== 'ivr' && kind !== 'notify') throw new UsageError(`--kind: expected ivr or notify, got "${kind}"`);
    const [{ withDatabase }, { recentCalls }] = await Promise.all([import('../context.ts'), import('../../store/call-log.ts')]);
    const calls = await withDatabase((db) => recentCalls(db.pool, { limit: Number(limitText), kind }));
    for (const c of calls) console.log(flags.has('json') ? JSON.stringify(c) : line(c));
    if (!calls.length && !flags.has('json')) console.log('no calls recorded');
    return 0;
  },
};

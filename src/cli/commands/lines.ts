import { UsageError, type Command } from '../command.ts';
import { parseArgs } from '../args.ts';
import type { LineEventRow, LineView } from '../../store/line-probes.ts';

const STATES = ['unknown', 'up', 'down'] as const;

function lineText(l: LineView): string {
  const last = l.lastProbeAt ? `${l.lastResult}${l.lastStatus ? ` ${l.lastStatus}` : ''} at ${l.lastProbeAt.toISOString()}` : 'not probed yet';
  const probing = l.leaseHolder ? ` probing=${l.leaseHolder}` : '';
  return `${l.state.padEnd(7)} since ${l.stateSince.toISOString()}  ${l.contractId}  ${l.line}  numbers=${l.numbers.join(',')}  last=${last}  fails=${l.fails} answers=${l.answers}${probing}`;
}

function eventText(e: LineEventRow): string {
  const kind = e.kind === 'down' ? '故障' : '回復';
  return `${e.at.toISOString()} ${kind}  ${e.contractId}  ${e.line}  numbers=${e.numbers.join(',')}  一括転送=${e.bulkForward}  cause=${e.cause}  mails=${e.mails}`;
}

export const linesCommand: Command = {
  name: 'lines',
  summary: 'probed lines of 故障・回復通知 (state, since when, last probe) and their 故障/回復 events',
  help: `Usage: chakushin lines [--state unknown|up|down] [--contract ID] [--limit N] [--json]
       chakushin lines events [--contract ID] [--limit N] [--json]

Lists the lines the 故障・回復通知 prober watches (contracts with the service started), 故障 first:
  state    unknown (no verdict yet), up, down (故障), and since when
  line     the SIP target probed, or a number probed at notify.nextHop
  last     the last probe's result (answered, timeout, unavailable, unreachable_at_next_hop,
           call_failed, not_sent) with its SIP status and time
  fails / answers   consecutive failures / answers so far
  probing  the instance holding the line's lease while a probe is out
events: every 故障 and 回復 declared, newest first, with what 一括転送 did (started, stopped,
kept, none) and the mails queued.
  --json   one JSON object a line`,
  async run(args) {
    const { flags, positional: positionals } = parseArgs(args, { values: ['limit', 'state', 'contract'], booleans: ['json'] });
    const limitText = (flags.get('limit') as string | undefined) ?? '100';
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1) throw new UsageError(`--limit: expected a positive whole number, got "${limitText}"`);
    const state = flags.get('state') as string | undefined;
    if (state !== undefined && !(STATES as readonly string[]).includes(state)) throw new UsageError(`--state: expected one of ${STATES.join(', ')}, got "${state}"`);
    const [sub, ...rest] = positionals;
    if (rest.length || (sub !== undefined && sub !== 'events')) throw new UsageError(`unexpected argument "${rest[0] ?? sub}"; see chakushin lines --help`);
    if (sub === 'events' && state !== undefined) throw new UsageError('--state: not for events');
    const contractId = flags.get('contract') as string | undefined;
    const limit = Number(limitText);
    const json = flags.has('json');
    const [{ withDatabase }, { listLines, listLineEvents }] = await Promise.all([import('../context.ts'), import('../../store/line-probes.ts')]);
    if (sub === 'events') {
      const events = await withDatabase((db) => listLineEvents(db.pool, { contractId, limit }));
      for (const e of events) console.log(json ? JSON.stringify(e) : eventText(e));
      if (!events.length && !json) console.log('no 故障 or 回復 recorded');
      return 0;
    }
    const lines = await withDatabase((db) => listLines(db.pool, { state: state as (typeof STATES)[number] | undefined, contractId, limit }));
    for (const l of lines) console.log(json ? JSON.stringify(l) : lineText(l));
    if (!lines.length && !json) console.log('no probed lines (no contract has 故障・回復通知 started)');
    return 0;
  },
};

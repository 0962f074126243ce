// `chakushin fax send|list`: a FAX sender for tests and testers (spandsp T.30 over G.711 or T.38,
// through a SIP engine of its own, like a SIPp call), and the receptions of a number.
// Heavy modules (config, database, SIP engine, spandsp) load only when a subcommand runs.
import { isNationalNumber } from '../../domain/phone-number.ts';
import { faxResultText } from '../../domain/fax.ts';
import { parseArgs } from '../args.ts';
import { UsageError, type Command } from '../command.ts';

const HELP = `Usage: chakushin fax send --to NUMBER [options] FILE.tif
       chakushin fax list --number NUMBER [--limit N] [--json]

send   Calls NUMBER as a FAX machine and sends FILE.tif (TIFF/F: G3 or G4, 1728 pixels wide,
       204x98 or 204x196 dpi, e.g. from ghostscript:
         gs -q -dNOPAUSE -dBATCH -sDEVICE=tiffg3 -r204x196 -g1728x2292 -sOutputFile=doc.tif doc.pdf)
       with spandsp's T.30 over G.711, through a SIP engine of its own on free local ports.
  --to NUMBER            the number called (Request-URI user)
  --from NUMBER          the caller's number (From); default: anonymous (表示圏外)
  --via HOST:PORT        where the call goes (default: the service's SIP_LISTEN, 127.0.0.1:5060)
  --t38                  after the answer, re-INVITE to T.38 (UDPTL) and send on T.38, as a gateway does
  --hangup-after-page N  hang up as soon as N pages are sent (a partial reception on purpose)
  --alaw                 offer PCMA first (default PCMU)
  --ident TEXT           our station identity (TSI), up to 20 characters
  --timeout SEC          give up after SEC seconds (default 300)
  Prints one line: the SIP status, pages sent, the T.30 result. Exit 0 when the FAX went through
  (or was hung up as asked), 1 otherwise.

list   The number's kept receptions, newest first: 受信日時, caller or 非通知理由, pages, result.`;

function hostPort(value: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--via expects HOST:PORT, got "${value}"`);
  return { host: m[1]!, port: Number(m[2]) };
}

function numberFlag(flags: Map<string, string | true>, name: string, required: boolean): string | undefined {
  const v = flags.get(name);
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || !isNationalNumber(v)) throw new UsageError(`--${name}: a national number (0 and 9–10 digits) is required${typeof v === 'string' ? `, got "${v}"` : ''}`);
  return v;
}

function wholeNumber(flags: Map<string, string | true>, name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--${name}: expected a positive whole number, got "${String(v)}"`);
  return Number(v);
}

async function send(args: string[]): Promise<number> {
  const { positional, flags } = parseArgs(args, { values: ['to', 'from', 'via', 'hangup-after-page', 'ident', 'timeout'], booleans: ['t38', 'alaw'] });
  const to = numberFlag(flags, 'to', true)!;
  const from = numberFlag(flags, 'from', false);
  if (positional.length !== 1) throw new UsageError('one TIFF file to send is required');
  const [{ loadConfig }, { createLogger }, { checkFaxFile, FaxFileError, sendFax }] = await Promise.all([
    import('../../config.ts'), import('../../logger.ts'), import('../fax-sender.ts'),
  ]);
  const config = loadConfig();
  const via = flags.has('via') ? hostPort(flags.get('via') as string) : config.sip.listen;
  const hangupAfterPage = wholeNumber(flags, 'hangup-after-page');
  const timeoutSec = wholeNumber(flags, 'timeout') ?? 300;
  const ident = flags.get('ident') as string | undefined;
  try {
    await checkFaxFile(positional[0]!);
  } catch (err) {
    if (err instanceof FaxFileError) throw new UsageError(err.message);
    throw err;
  }
  const r = await sendFax({
    to, via, file: positional[0]!, t38: flags.has('t38'), law: flags.has('alaw') ? 'alaw' : 'ulaw', timeoutMs: timeoutSec * 1000,
    spandspLibrary: config.fax.spandspLibrary, logger: createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr as never),
    ...(from ? { from } : {}), ...(hangupAfterPage ? { hangupAfterPage } : {}), ...(ident ? { ident } : {}),
  });
  if (r.sipStatus !== 200) {
    console.log(`SIP ${r.sipStatus}: the call was not answered; nothing sent`);
    return 1;
  }
  console.log(`SIP 200, ${r.transport === 't38' ? 'T.38' : 'G.711'}: ${r.pagesSent} page(s) sent; T.30 ${r.t30Code} ${r.t30Text}${r.hungUp ? ' (hung up as asked)' : ''}`);
  return r.t30Code === 0 || r.hungUp ? 0 : 1;
}

async function list(args: string[]): Promise<number> {
  const { flags } = parseArgs(args, { values: ['number', 'limit'], booleans: ['json'] });
  const number = numberFlag(flags, 'number', true)!;
  const limit = wholeNumber(flags, 'limit') ?? 20;
  const [{ withDatabase }, { listFaxReceptions }, { tokyoTime }] = await Promise.all([
    import('../context.ts'), import('../../store/fax.ts'), import('../../mail/format.ts'),
  ]);
  return withDatabase(async (db) => {
    const { total, rows } = await listFaxReceptions(db.pool, number, { offset: 0, limit });
    if (flags.has('json')) {
      for (const r of rows) console.log(JSON.stringify(r));
      return 0;
    }
    console.log(`FAX receptions of ${number} (${total}), newest first:`);
    if (!rows.length) console.log('  none');
    for (const r of rows) {
      console.log(`  #${r.id} ${tokyoTime(r.receivedAt)} ${r.callerNumber ?? r.absentReason} ${r.pages}p ${r.resolution ?? ''} ${r.transport} ${faxResultText(r)}${r.remoteIdent ? ` TSI="${r.remoteIdent}"` : ''}`);
    }
    return 0;
  });
}

export const faxCommand: Command = {
  name: 'fax',
  summary: 'send a FAX (test sender, G.711 or T.38) or list a number’s FAX receptions',
  help: HELP,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === 'send') return send(rest);
    if (sub === 'list') return list(rest);
    throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'a subcommand is required: send or list');
  },
};

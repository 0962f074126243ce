// 一括転送機能 on the 設定サイト (002): サービス開始／停止設定, 転送先電話番号の設定 (every number of the
// contract, paged) and 転送先電話番号の一括設定 (CSV, all rows or none) — settings of the whole contract,
// for logins that manage it (common-pages.ts, registerContractService).
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readBulkForward, lockBulkForwardState, writeBulkForwardDestinations, writeBulkForwardStarted, type BulkForwardSettings } from '../../../store/bulk-forward-settings.ts';
import { withTransaction } from '../../../store/transaction.ts';
import { NUMBERS_PER_PAGE, pageOf } from '../../paging.ts';
import { FormError, type Body, type Errors } from '../../settings-form.ts';
import { bulkForwardCsvRows, parseBulkForwardCsv, postedDestination, type BulkForwardRow } from '../bulk/bulk-forward-csv.ts';
import { readCsvUpload, writeCsv, type CsvProblem } from '../bulk/csv.ts';
import { contractForm, contractFormSettings } from './contract-forms.ts';
import type { ContractServiceContext, ContractServicePages } from './service-pages.ts';

export const BULK_FORWARD_MSG = {
  startWithoutDestination: '転送先電話番号が設定されていないため、開始できません。先に「転送先電話番号の設定」を行ってください。',
  removeAllWhileStarted: 'サービス開始中は、転送先電話番号をすべて削除することはできません。先にサービスを停止してください。',
  startedByService: '故障の検知により、自動で開始されています（一括転送自動停止設定が「開始」なら、回復の検知で自動で停止します）。',
  uploaded: (rows: number, changed: number) => `${rows}件の電話番号を確認し、${changed}件の転送先電話番号を変更しました。`,
};

export const bulkForward: ContractServicePages = {
  scope: 'contract',
  service: 'bulk_forward',
  name: '一括転送機能',
  // The guides give no one-line description of the service itself; this is what it does.
  description: 'ご契約の電話番号への着信を、電話番号ごとに設定した転送先へまとめて転送します。',
  path: '/bulk-forward',
  menu: [
    { label: 'サービス開始／停止設定', path: '/start', description: 'サービスの開始または停止の設定を行います。' },
    { label: '転送先電話番号の設定', path: '/destinations', description: '電話番号と転送先番号を個別設定します。' },
    { label: '転送先電話番号の一括設定', path: '/csv', description: 'CSVファイルを使用して転送先の電話番号を一括設定します。' },
  ],
  status: async (ctx, contractId) => {
    const s = await readBulkForward(ctx.deps.pool, contractId);
    if (!s?.started) return '停止';
    return s.startedBy === 'service' ? '開始（故障の検知による自動開始）' : '開始';
  },
  register,
};

const withDestination = (s: BulkForwardSettings) => s.numbers.filter((n) => n.destination).length;
/** The field of a number's 転送先 on 転送先電話番号の設定. */
const fieldOf = (number: string) => `d${number}`;

async function register(app: FastifyInstance, ctx: ContractServiceContext) {
  const { deps } = ctx;
  const settingsOf = (contractId: string) => contractFormSettings(deps.pool, 'bulk_forward_setting', contractId, readBulkForward);

  // サービス開始／停止設定: 開始 needs a 転送先. Started by hand it is the subscriber's: a 回復 never stops it.
  contractForm(app, ctx, settingsOf, {
    view: 'start',
    title: 'サービス開始／停止設定',
    draw: (s) => ({ values: { started: s.started }, byService: s.startedBy === 'service', destinations: withDestination(s), note: BULK_FORWARD_MSG.startedByService }),
    redraw: (b) => ({ values: { started: b.started === 'on' } }),
    async save(client, contractId, b, current) {
      const started = b.started === 'on';
      if (started && withDestination(current) === 0) throw new FormError({ started: BULK_FORWARD_MSG.startWithoutDestination });
      if (started !== current.started) await writeBulkForwardStarted(client, contractId, started, 'subscriber', deps.clock.now());
    },
    summary: (b) => ({ started: b.started === 'on' }),
  });

  // 転送先電話番号の設定: every number of the contract with its 転送先, 20 a page; a save changes the numbers of the page shown.
  const rowsOf = (s: BulkForwardSettings, asked: unknown, typed?: Body) => {
    const paged = pageOf(s.numbers, asked, NUMBERS_PER_PAGE);
    const rows = paged.items.map((n) => ({ number: n.number, field: fieldOf(n.number), value: typed?.[fieldOf(n.number)] ?? n.destination ?? '' }));
    return { started: s.started, rows, paged };
  };
  contractForm(app, ctx, settingsOf, {
    view: 'destinations',
    title: '転送先電話番号の設定',
    draw: (s, asked) => rowsOf(s, asked),
    redraw: (b, s) => rowsOf(s, b.page, b),
    async save(client, contractId, b, current) {
      const errors: Errors = {};
      const rows: BulkForwardRow[] = [];
      for (const n of current.numbers) {
        const typed = b[fieldOf(n.number)];
        if (typeof typed !== 'string') continue;
        const d = postedDestination(typed.trim(), n.number);
        if ('refusal' in d) errors[fieldOf(n.number)] = d.refusal;
        else rows.push({ number: n.number, destination: d.destination });
      }
      if (Object.keys(errors).length) throw new FormError(errors);
      const after = new Map(current.numbers.map((n) => [n.number, n.destination]));
      for (const r of rows) after.set(r.number, r.destination);
      if (current.started && ![...after.values()].some(Boolean)) {
        // The refusal stands at the first 転送先 the form cleared.
        const cleared = rows.find((r) => r.destination === null && current.numbers.some((n) => n.number === r.number && n.destination));
        throw new FormError({ [cleared ? fieldOf(cleared.number) : 'form']: BULK_FORWARD_MSG.removeAllWhileStarted });
      }
      await writeBulkForwardDestinations(client, contractId, rows, deps.clock.now());
    },
    summary: (b) => ({ numbers: Object.keys(b).filter((k) => /^d\d+$/.test(k)).length }),
  });

  await app.register(async (csv) => registerCsv(csv, ctx));
}

/** 転送先電話番号の一括設定: download every number's 転送先; upload all rows or none. */
async function registerCsv(app: FastifyInstance, ctx: ContractServiceContext) {
  const { deps } = ctx;
  // The file and the CSRF token arrive as multipart fields (the login hook has run before: nobody
  // without a session makes the site read a file).
  await app.register(fastifyMultipart, {
    attachFieldsToBody: 'keyValues', limits: { fileSize: deps.config.site.uploadLimitBytes, files: 1, fields: 4, fieldSize: 1024 },
  });
  const show = (req: FastifyRequest, reply: FastifyReply, s: BulkForwardSettings, extra: { problems?: CsvProblem[]; notice?: string } = {}, status = 200) =>
    ctx.render(req, reply, 'bulk-forward/csv', { ...ctx.pageData(req), title: '転送先電話番号の一括設定', count: s.numbers.length, problems: extra.problems ?? [], notice: extra.notice }, status);
  const read = async (contractId: string) => (await readBulkForward(deps.pool, contractId))!;

  app.get('/csv', async (req, reply) => show(req, reply, await read(ctx.contractIdOf(req))));

  app.get('/destinations.csv', async (req, reply) => {
    const contractId = ctx.contractIdOf(req);
    const s = await read(contractId);
    await ctx.audit(req, { action: 'bulk_forward.csv_download', subject: req.login.account.number, detail: { contract: contractId, numbers: s.numbers.length } });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="bulk-forward-${req.login.account.number}.csv"`)
      .header('cache-control', 'no-store')
      .send(writeCsv(bulkForwardCsvRows(s.numbers)));
  });

  app.post('/csv', async (req, reply) => {
    const contractId = ctx.contractIdOf(req);
    const upload = readCsvUpload((req.body as Record<string, unknown> | undefined)?.file);
    if ('problem' in upload) return show(req, reply, await read(contractId), { problems: [upload.problem] }, 400);
    const result = await withTransaction(deps.pool, async (client) => {
      // Under the contract's row: a 故障 starting 一括転送, or another upload, waits for this one.
      const state = await lockBulkForwardState(client, contractId);
      const s = (await readBulkForward(client, contractId))!;
      const parsed = parseBulkForwardCsv(upload.records, new Set(s.numbers.map((n) => n.number)));
      const stored = new Map(s.numbers.map((n) => [n.number, n.destination]));
      const changed = parsed.rows.filter((r) => stored.get(r.number) !== r.destination);
      for (const r of changed) stored.set(r.number, r.destination);
      if (!parsed.problems.length && state?.started && ![...stored.values()].some(Boolean)) {
        parsed.problems.push({ line: 0, field: '転送先電話番号', message: BULK_FORWARD_MSG.removeAllWhileStarted });
      }
      if (parsed.problems.length) return { problems: parsed.problems, s };
      await writeBulkForwardDestinations(client, contractId, changed, deps.clock.now());
      await ctx.audit(req, { action: 'bulk_forward.csv_upload', subject: req.login.account.number, detail: { contract: contractId, rows: parsed.rows.length, changed: changed.length } }, client);
      return { notice: BULK_FORWARD_MSG.uploaded(parsed.rows.length, changed.length), s };
    });
    if (result.problems) {
      await ctx.audit(req, { action: 'bulk_forward.csv_refused', subject: req.login.account.number, detail: { contract: contractId, problems: result.problems.length } });
      return show(req, reply, result.s, { problems: result.problems }, 400);
    }
    return show(req, reply, await read(contractId), { notice: result.notice });
  });
}

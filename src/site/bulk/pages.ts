// 一括設定 for contracts of 33 numbers or more (001 p.10–11): 着信お知らせメール settings of every
// number the login manages as one CSV, downloaded and uploaded. An upload applies every row in one
// transaction or nothing; every bad row is listed with its line and field.
import fastifyMultipart from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readNotifySettings, writeConditions, writeDesignated, writeDestinations, writeStarted } from '../../store/notify-settings.ts';
import type { PageSet, SiteContext } from '../foundation.ts';
import { MAIL_CSV_HEADER, mailCsvRow, parseMailCsv, sameAsStored } from './chakushin-mail-csv.ts';
import { CsvSyntaxError, decodeCsvFile, parseCsv, writeCsv, type CsvProblem } from './csv.ts';

export const BULK_PATH = '/bulk';
/** 一括設定 is offered from this many numbers with the service (001 p.10). */
export const BULK_FROM = 33;
const SERVICE = 'chakushin_mail';
const MAX_FILE = 2 * 1024 * 1024;

export function bulkPages(): PageSet {
  return { prefix: BULK_PATH, register };
}

async function register(app: Parameters<PageSet['register']>[0], ctx: SiteContext) {
  const { pool, clock } = ctx.deps;
  // The file and the CSRF token arrive as multipart fields, parsed before the CSRF check runs.
  await app.register(fastifyMultipart, { attachFieldsToBody: 'keyValues', limits: { fileSize: MAX_FILE, files: 1, fields: 4 } });
  app.addHook('preHandler', ctx.requireLogin);

  const managed = (req: FastifyRequest) => req.login.scope.filter((n) => n.services.includes(SERVICE)).map((n) => n.number);
  const page = (req: FastifyRequest, reply: FastifyReply, extra: { problems?: CsvProblem[]; notice?: string } = {}, status = 200) =>
    ctx.render(req, reply, 'bulk-chakushin-mail', { title: '一括設定（着信お知らせメール）', count: managed(req).length, problems: extra.problems ?? [], notice: extra.notice }, status);
  const offered = (req: FastifyRequest, reply: FastifyReply) => {
    if (managed(req).length >= BULK_FROM) return true;
    void ctx.render(req, reply, 'error', { title: '一括設定', message: `一括設定は、${BULK_FROM}番号以上の電話番号を設定できる場合に利用できます。` }, 403);
    return false;
  };

  app.get('/chakushin-mail', async (req, reply) => (offered(req, reply) ? page(req, reply) : reply));

  app.get('/chakushin-mail.csv', async (req, reply) => {
    if (!offered(req, reply)) return reply;
    const rows = [MAIL_CSV_HEADER];
    for (const n of managed(req)) rows.push(mailCsvRow(await readNotifySettings(pool, n)));
    await ctx.audit(req, { action: 'bulk.chakushin_mail.download', subject: req.login.account.number, detail: { numbers: rows.length - 1 } });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="chakushin-mail-${req.login.account.number}.csv"`)
      .header('cache-control', 'no-store')
      .send(writeCsv(rows));
  });

  app.post('/chakushin-mail', async (req, reply) => {
    if (!offered(req, reply)) return reply;
    const file = (req.body as Record<string, unknown> | undefined)?.file;
    if (!Buffer.isBuffer(file) || file.length === 0) return page(req, reply, { problems: [{ line: 0, field: 'CSVファイル', message: 'CSVファイルを指定してください。' }] }, 400);
    let parsed: ReturnType<typeof parseMailCsv>;
    try {
      parsed = parseMailCsv(parseCsv(decodeCsvFile(file)), new Set(managed(req)));
    } catch (err) {
      if (!(err instanceof CsvSyntaxError)) throw err;
      return page(req, reply, { problems: [{ line: err.line, field: '"', message: '「"」で始まった項目が閉じられていません。' }] }, 400);
    }
    if (parsed.problems.length) {
      await ctx.audit(req, { action: 'bulk.chakushin_mail.refused', subject: req.login.account.number, detail: { problems: parsed.problems.length } });
      return page(req, reply, { problems: parsed.problems }, 400);
    }
    const now = clock.now();
    const client = await pool.connect();
    let changed = 0;
    try {
      await client.query('begin');
      for (const row of parsed.rows) {
        // A row saying what is stored writes nothing (not even a settings row for a number without one).
        if (sameAsStored(row, await readNotifySettings(client, row.number))) continue;
        await client.query('insert into notify_setting (number) values ($1) on conflict (number) do nothing', [row.number]);
        await client.query('select 1 from notify_setting where number = $1 for update', [row.number]);
        await writeStarted(client, row.number, row.started, now);
        await writeConditions(client, row.number, row, now);
        await writeDestinations(client, row.number, row.destinations, now);
        await writeDesignated(client, row.number, row.designated, now);
        changed++;
      }
      await ctx.audit(req, { action: 'bulk.chakushin_mail.upload', subject: req.login.account.number, detail: { rows: parsed.rows.length, changed } }, client);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    return page(req, reply, { notice: `${parsed.rows.length}件の電話番号を確認し、${changed}件の設定を変更しました。` });
  });
}

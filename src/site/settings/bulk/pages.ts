// 一括設定 for contracts of 33 numbers or more (001 p.10–11): 着信お知らせメール settings of every
// number the login manages as one CSV, downloaded and uploaded. An upload applies every row in one
// transaction or nothing; every bad row is listed with its line and field.
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { lockNotifySetting, readNotifySettings, writeConditions, writeDesignated, writeDestinations, writeStarted } from '../../../store/notify-settings.ts';
import { declineOtp, loadOtpSettings, setCheckCredential, setUseOtp } from '../../../store/otp.ts';
import { hashPassword } from '../../../store/password-hash.ts';
import { withTransaction } from '../../../store/transaction.ts';
import type { SettingsContext } from '../context.ts';
import { startRegistration } from '../otp/registration.ts';
import { MAIL_CSV_HEADER, mailCsvRow, parseMailCsv, sameAsStored } from './chakushin-mail-csv.ts';
import { readCsvUpload, writeCsv, type CsvProblem } from './csv.ts';
import { OTP_CSV_HEADER, otpCsvRow, parseOtpCsv } from './otp-csv.ts';

export const BULK_PATH = '/bulk';
/** 一括設定 is offered from this many numbers with the service (001 p.10). */
export const BULK_FROM = 33;
const SERVICE = 'chakushin_mail';

export async function registerBulk(app: FastifyInstance, ctx: SettingsContext) {
  const { pool, clock } = ctx.deps;
  // The file and the CSRF token arrive as multipart fields, parsed before the CSRF check runs;
  // the other fields are short (busboy would take 1 MB each).
  await app.register(fastifyMultipart, {
    attachFieldsToBody: 'keyValues', limits: { fileSize: ctx.deps.config.site.uploadLimitBytes, files: 1, fields: 4, fieldSize: 1024 },
  });
  // Login first, before multipart's preValidation reads a whole upload into memory: no one without
  // a session makes the site buffer megabytes. (CSRF is checked after, from the parsed fields.)
  app.addHook('onRequest', ctx.requireLogin);

  const managed = (req: FastifyRequest) => req.login.scope.filter((n) => n.services.includes(SERVICE)).map((n) => n.number);
  const page = (req: FastifyRequest, reply: FastifyReply, extra: { problems?: CsvProblem[]; notice?: string } = {}, status = 200) =>
    ctx.render(req, reply, 'bulk-chakushin-mail', { title: '一括設定（着信お知らせメール）', count: managed(req).length, problems: extra.problems ?? [], notice: extra.notice }, status);
  const offered = (req: FastifyRequest, reply: FastifyReply) => {
    if (managed(req).length >= BULK_FROM) return true;
    void ctx.errorPage(req, reply, 403, { title: '一括設定', message: `一括設定は、${BULK_FROM}番号以上の電話番号を設定できる場合に利用できます。` });
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
    const upload = readCsvUpload((req.body as Record<string, unknown> | undefined)?.file);
    if ('problem' in upload) return page(req, reply, { problems: [upload.problem] }, 400);
    const parsed = parseMailCsv(upload.records, new Set(managed(req)));
    if (parsed.problems.length) {
      await ctx.audit(req, { action: 'bulk.chakushin_mail.refused', subject: req.login.account.number, detail: { problems: parsed.problems.length } });
      return page(req, reply, { problems: parsed.problems }, 400);
    }
    const now = clock.now();
    const changed = await withTransaction(pool, async (client) => {
      let n = 0;
      for (const row of parsed.rows) {
        // A row saying what is stored writes nothing (not even a settings row for a number without one).
        if (sameAsStored(row, await readNotifySettings(client, row.number))) continue;
        await lockNotifySetting(client, row.number);
        await writeStarted(client, row.number, row.started, now);
        await writeConditions(client, row.number, row, now);
        await writeDestinations(client, row.number, row.destinations, now);
        await writeDesignated(client, row.number, row.designated, now);
        n++;
      }
      await ctx.audit(req, { action: 'bulk.chakushin_mail.upload', subject: req.login.account.number, detail: { rows: parsed.rows.length, changed: n } }, client);
      return n;
    });
    return page(req, reply, { notice: `${parsed.rows.length}件の電話番号を確認し、${changed}件の設定を変更しました。` });
  });

  // ── ワンタイムパスワード各種一括設定: every number the login manages ──
  const otpNumbers = (req: FastifyRequest) => req.login.scope.map((n) => n.number);
  const otpOffered = (req: FastifyRequest, reply: FastifyReply) => {
    if (ctx.deps.config.otp.regions[req.login.account.region]) return true;
    void ctx.errorPage(req, reply, 404, { title: 'ワンタイムパスワード各種一括設定', message: 'この地域では、ワンタイムパスワードは提供していません。' });
    return false;
  };
  const otpPage = (req: FastifyRequest, reply: FastifyReply, extra: { problems?: CsvProblem[]; notice?: string } = {}, status = 200) =>
    ctx.render(req, reply, 'bulk-otp', { title: 'ワンタイムパスワード各種一括設定', count: otpNumbers(req).length, problems: extra.problems ?? [], notice: extra.notice }, status);

  app.get('/otp', async (req, reply) => (otpOffered(req, reply) ? otpPage(req, reply) : reply));
  app.get('/otp.csv', async (req, reply) => {
    if (!otpOffered(req, reply)) return reply;
    const numbers = otpNumbers(req);
    const stored = await loadOtpSettings(pool, numbers);
    await ctx.audit(req, { action: 'bulk.otp.download', subject: req.login.account.number, detail: { numbers: numbers.length } });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="otp-${req.login.account.number}.csv"`)
      .header('cache-control', 'no-store')
      .send(writeCsv([OTP_CSV_HEADER, ...numbers.map((n) => otpCsvRow(n, stored.get(n)))]));
  });
  app.post('/otp', async (req, reply) => {
    if (!otpOffered(req, reply)) return reply;
    const upload = readCsvUpload((req.body as Record<string, unknown> | undefined)?.file);
    if ('problem' in upload) return otpPage(req, reply, { problems: [upload.problem] }, 400);
    const numbers = otpNumbers(req);
    const stored = await loadOtpSettings(pool, numbers);
    const parsed = parseOtpCsv(upload.records, stored, new Set(numbers));
    if (parsed.problems.length) {
      await ctx.audit(req, { action: 'bulk.otp.refused', subject: req.login.account.number, detail: { problems: parsed.problems.length } });
      return otpPage(req, reply, { problems: parsed.problems }, 400);
    }
    // Hashing (scrypt) happens before the transaction, so it holds no locks while it works. A row's
    // ID and password hash side by side: half the wait, and two of libuv's four threads stay free
    // for the file writes of the notify spool and journal.
    const hashes = new Map<string, { id?: string; password?: string }>();
    for (const r of parsed.rows) {
      if (!r.use) continue;
      const [id, password] = await Promise.all([r.checkId ? hashPassword(r.checkId) : undefined, r.checkPassword ? hashPassword(r.checkPassword) : undefined]);
      hashes.set(r.number, { id, password });
    }
    const now = clock.now();
    const login = req.login;
    let changed = 0;
    let mailed = 0;
    await withTransaction(pool, async (client) => {
      for (const r of parsed.rows) {
        const s = stored.get(r.number);
        if (r.use === undefined) continue;
        if (!r.use) {
          if (!s || s.useOtp) {
            await declineOtp(client, r.number);
            changed++;
          }
          continue;
        }
        const h = hashes.get(r.number)!;
        let touched = false;
        if (r.address !== (s?.address ?? s?.pendingAddress)) {
          // A new address waits for its own 本登録 URL, as from the registration page.
          await startRegistration(client, ctx.deps.config, now, { number: r.number, address: r.address, pattern: login.account.pattern, region: login.account.region, publicUrl: ctx.publicUrl() });
          mailed++;
          touched = true;
        } else if (!s!.useOtp) {
          await setUseOtp(client, r.number, true);
          touched = true;
        }
        if (h.id) await setCheckCredential(client, r.number, 'id', h.id);
        if (h.password) await setCheckCredential(client, r.number, 'password', h.password);
        if (touched || h.id || h.password) changed++;
      }
      await ctx.audit(req, { action: 'bulk.otp.upload', subject: login.account.number, detail: { rows: parsed.rows.length, changed, mailed } }, client);
    });
    const notice = `${parsed.rows.length}件の電話番号を確認し、${changed}件の設定を変更しました。` + (mailed ? `${mailed}件のメールアドレスに「メールアドレスの本登録お手続きURL」を送信しました。` : '');
    return otpPage(req, reply, { notice });
  });
}

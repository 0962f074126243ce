// A FAX reception the database cannot take when it ends (down, refusing connections) must not be
// lost with its document: it is written whole (record, PDF, the settings read at the call) to
// `<varDir>/spool/fax-<pid>-<uuid>.json` — written to a temporary name, fsynced, renamed, the folder
// fsynced — and replayed at start and every few seconds until the database takes it. Each file is
// complete once it has its name, so any instance may replay any file; recording is idempotent
// (unique call id), so two replaying one file change nothing. A file the database refuses outright
// (bad data, SQLSTATE classes 22 and 23) goes to `spool/rejected/` with an error line.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { FaxSettings } from '../store/fax.ts';
import { recordFaxReception, type FaxConfig, type FinishedFax } from './fax-record.ts';

export interface FaxSpoolEntry {
  profile: { pattern: 'A' | 'B'; region: 'east' | 'west' };
  settings: FaxSettings;
  fax: FinishedFax;
}

export interface FaxSpool {
  put(entry: FaxSpoolEntry): Promise<void>;
  /** One replay round now; resolves with how many receptions were recorded. */
  replay(): Promise<number>;
  stop(): Promise<void>;
}

const VERSION = 1;
const FILE = /^fax-\d+-[0-9a-f-]+\.json$/;

function serialise(e: FaxSpoolEntry): string {
  const { pdf, ...reception } = e.fax.reception;
  return JSON.stringify({ v: VERSION, ...e, fax: { ...e.fax, reception: { ...reception, pdf: pdf ? Buffer.from(pdf).toString('base64') : null } } });
}

function revive(text: string): FaxSpoolEntry {
  const raw = JSON.parse(text);
  if (raw.v !== VERSION) throw new Error(`unknown FAX spool format ${raw.v}`);
  const f = raw.fax;
  return {
    profile: raw.profile,
    settings: raw.settings,
    fax: {
      ...f, inviteAt: new Date(f.inviteAt), receivedAt: new Date(f.receivedAt), endedAt: new Date(f.endedAt),
      reception: { ...f.reception, pdf: f.reception.pdf === null ? null : Buffer.from(f.reception.pdf, 'base64') },
    },
  };
}

async function fsyncPath(p: string, flags = 'r'): Promise<void> {
  const h = await open(p, flags);
  try {
    await h.datasync();
  } finally {
    await h.close();
  }
}

export function startFaxSpool(opts: { dir: string; pool: pg.Pool; config: FaxConfig; logger: Logger; everyMs?: number }): FaxSpool {
  const log = opts.logger.child({ part: 'fax-spool' });
  const rejected = path.join(opts.dir, 'rejected');
  let round: Promise<number> | undefined;
  let outageLogged = false;

  async function put(entry: FaxSpoolEntry): Promise<void> {
    await mkdir(opts.dir, { recursive: true });
    const name = `fax-${process.pid}-${randomUUID()}.json`;
    const tmp = path.join(opts.dir, `.${name}.tmp`);
    const h = await open(tmp, 'w');
    try {
      await h.writeFile(serialise(entry));
      await h.datasync();
    } finally {
      await h.close();
    }
    await rename(tmp, path.join(opts.dir, name));
    await fsyncPath(opts.dir);
  }

  async function replayAll(): Promise<number> {
    let names: string[];
    try {
      names = (await readdir(opts.dir)).filter((n) => FILE.test(n)).sort();
    } catch {
      return 0;
    }
    let recorded = 0;
    for (const name of names) {
      const file = path.join(opts.dir, name);
      let entry: FaxSpoolEntry;
      try {
        entry = revive(await readFile(file, 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another instance took it
        await reject(name, (err as Error).message);
        continue;
      }
      try {
        await recordFaxReception(opts.pool, opts.config, entry.profile, entry.settings, entry.fax);
      } catch (err) {
        const code = String((err as { code?: unknown }).code ?? '');
        if (/^2[23]/.test(code)) {
          await reject(name, (err as Error).message);
          continue;
        }
        if (!outageLogged) log.warn({ err: (err as Error).message, waiting: names.length }, 'FAX receptions wait in the spool for the database');
        outageLogged = true;
        break;
      }
      outageLogged = false;
      await unlink(file).catch(() => undefined);
      recorded++;
      log.info({ callId: entry.fax.callId, called: entry.fax.calledNumber }, 'spooled FAX reception recorded');
    }
    return recorded;
  }

  async function reject(name: string, why: string): Promise<void> {
    await mkdir(rejected, { recursive: true });
    await rename(path.join(opts.dir, name), path.join(rejected, name)).catch(() => undefined);
    log.error({ file: path.join(rejected, name), why }, 'FAX spool entry refused: kept in spool/rejected');
  }

  const replay = () => (round ??= replayAll().finally(() => (round = undefined)));
  void replay().catch(() => undefined);
  const timer = setInterval(() => void replay().catch(() => undefined), opts.everyMs ?? 5000);
  timer.unref();
  return {
    put,
    replay,
    async stop() {
      clearInterval(timer);
      await round?.catch(() => undefined);
    },
  };
}

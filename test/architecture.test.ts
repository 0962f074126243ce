// The dependency direction written in the README, checked on every import of src/ and flows/:
// domain imports nothing; flows import only domain and their own port types; mail never
// imports notify; nothing below the service imports the service or the CLI.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) return files(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** Every relative import of a file, as a path from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const found = [...text.matchAll(/^\s*(?:import|export)[^'"]*?from\s+'(\.[^']+)'/gm), ...text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)];
  return found.map((m) => path.normalize(path.join(path.dirname(file), m[1]!)));
}

function violations(dirs: string[], allowed: (target: string, file: string) => boolean): string[] {
  return dirs.flatMap((d) => files(d)).flatMap((f) => importsOf(f).filter((t) => !allowed(t, f)).map((t) => `${f} → ${t}`));
}

const under = (dir: string) => (p: string) => p === dir || p.startsWith(`${dir}/`);

describe('dependency direction (README: Layout)', () => {
  it('domain imports nothing outside domain', () => {
    expect(violations(['src/domain'], under('src/domain'))).toEqual([]);
  });

  it('flows import only domain and their own port types', () => {
    expect(violations(['flows'], (t) => under('flows')(t) || under('src/domain')(t) || t === 'src/media/port.ts')).toEqual([]);
  });

  it('mail never imports notify', () => {
    expect(violations(['src/mail'], (t) => !under('src/notify')(t))).toEqual([]);
  });

  it('store imports only domain, config and its own modules', () => {
    expect(violations(['src/store'], (t) => under('src/store')(t) || under('src/domain')(t) || t === 'src/config.ts' || t === 'src/start-failure.ts')).toEqual([]);
  });

  it('only the service entry points import the service and the CLI', () => {
    const app = ['src/domain', 'src/store', 'src/media', 'src/ivr', 'src/notify', 'src/mail', 'src/site', 'src/sip-engine'];
    expect(violations(app.filter((d) => { try { return statSync(path.join(root, d)).isDirectory(); } catch { return false; } }), (t) => t !== 'src/service.ts' && !under('src/cli')(t))).toEqual([]);
  });
});

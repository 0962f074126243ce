// The dependency rule of the README (Layout / Dependency direction), checked on the real imports of
// every file under src/ and flows/: static, type-only, re-exports, dynamic import() and import types,
// read with the TypeScript parser. Every file belongs to exactly one layer of LAYERS; each layer
// imports only the layers MAY names. An exception stays only if EXCEPTIONS names it with its reason.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

/** Layers, most specific first: a file belongs to the first whose pattern matches it. */
const LAYERS = [
  ['domain', /^src\/domain\//],
  ['support', /^src\/(logger|start-failure|stop-signals|batch-window)\.ts$/],
  ['config', /^src\/config(-line-info|-error)?\.ts$/],
  ['sip-engine', /^src\/sip-engine\//],
  ['media-port', /^src\/media\/port\.ts$/],
  ['media', /^src\/media\//],
  ['store', /^src\/store\//],
  ['mail', /^src\/mail\//],
  ['web', /^src\/web\//],
  ['call-tracker', /^src\/call-tracker\.ts$/],
  ['flows', /^flows\//],
  ['ivr', /^src\/ivr\//],
  ['notify', /^src\/notify\//],
  ['failure', /^src\/failure\//],
  ['site', /^src\/site\//],
  ['service', /^src\/(service|sip-connection|sip-dispatch|node-lease|worker|workers|catcher-process)\.ts$/],
  ['cli', /^src\/cli\//],
] as const;
type Layer = (typeof LAYERS)[number][0];

/** What each layer may import besides itself (README: Dependency direction). */
const MAY: Record<Layer, readonly Layer[]> = {
  domain: [],
  support: [],
  config: ['domain'],
  'sip-engine': ['domain'],
  'media-port': [],
  media: ['media-port'],
  store: ['domain', 'support'],
  mail: ['domain', 'config', 'support', 'store'],
  web: ['domain', 'support'],
  'call-tracker': ['support'],
  flows: ['domain', 'media-port'],
  ivr: ['domain', 'config', 'support', 'store', 'call-tracker', 'media-port', 'flows'],
  notify: ['domain', 'config', 'support', 'store', 'call-tracker', 'media-port', 'mail'],
  failure: ['domain', 'config', 'support', 'store', 'mail'],
  site: ['domain', 'config', 'support', 'store', 'mail', 'web'],
  service: ['domain', 'config', 'support', 'sip-engine', 'media-port', 'media', 'store', 'mail', 'web', 'call-tracker', 'ivr', 'notify', 'failure', 'site'],
  cli: ['domain', 'config', 'support', 'sip-engine', 'media-port', 'media', 'store', 'mail', 'web', 'call-tracker', 'ivr', 'notify', 'failure', 'site', 'service'],
};

/** Layers that import no package and no node: module, only the layers MAY gives them. */
const NO_PACKAGES: readonly Layer[] = ['domain', 'media-port'];
/** The packages a layer may use, where the rule names them. */
const PACKAGES: Partial<Record<Layer, readonly string[]>> = { flows: ['xstate'] };

/** `file → import` pairs the rule allows by name, each with its reason. None today. */
const EXCEPTIONS: Record<string, string> = {};

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(path.join(root, rel)).isDirectory()) return sourceFiles(rel);
    return /\.(ts|mts|mjs|js)$/.test(name) ? [rel] : [];
  });
}

/** Every module a source text names: import/export … from, import x = require(), import(), import('…').T. */
function moduleSpecifiers(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      // A computed import() cannot be checked: it is refused as such.
      found.push(arg && ts.isStringLiteralLike(arg) ? arg.text : '<computed import()>');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

interface Import {
  file: string;
  /** A repository path for a relative import; the package or node: module otherwise. */
  target: string;
  relative: boolean;
}

function importsOf(file: string): Import[] {
  return moduleSpecifiers(file, readFileSync(path.join(root, file), 'utf8')).map((spec) => {
    if (!spec.startsWith('.')) return { file, target: spec, relative: false };
    return { file, target: path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)), relative: true };
  });
}

const layerOf = (file: string): Layer | undefined => LAYERS.find(([, pattern]) => pattern.test(file))?.[0];
const packageName = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

const files = [...sourceFiles('src'), ...sourceFiles('flows')];
const imports = files.flatMap(importsOf);
const key = (i: Import) => `${i.file} → ${i.target}`;

/** The imports the rule refuses, exceptions included. */
function refused(): string[] {
  return imports
    .filter((i) => {
      const from = layerOf(i.file)!;
      if (!i.relative) {
        if (NO_PACKAGES.includes(from)) return true;
        const allowed = PACKAGES[from];
        return allowed !== undefined && !allowed.includes(packageName(i.target));
      }
      const to = layerOf(i.target);
      return to === undefined || (to !== from && !MAY[from].includes(to));
    })
    .map(key);
}

describe('dependency direction (README: Layout)', () => {
  it('the import reader sees every form of import', () => {
    const text = `
      import a from './a.ts'; import type { B } from './b.ts'; import { type C } from './c.ts'; import './d.ts';
      export * from './e.ts'; export { F } from './f.ts'; export type { G } from './g.ts';
      const h = await import('./h.ts'); type I = import('./i.ts').I; let j: typeof import('./j.ts');
      import k = require('./k.ts'); const l = await import(name);`;
    expect(moduleSpecifiers('x.ts', text)).toEqual(['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts', './f.ts', './g.ts', './h.ts', './i.ts', './j.ts', './k.ts', '<computed import()>']);
  });

  it('every source file belongs to a layer', () => {
    expect(files.filter((f) => layerOf(f) === undefined)).toEqual([]);
    expect(files.length).toBeGreaterThan(100);
  });

  it('every relative import names a source file', () => {
    expect(imports.filter((i) => i.relative && !existsSync(path.join(root, i.target))).map(key)).toEqual([]);
  });

  it('the rule is a direction: no layer reaches itself through the layers it may import', () => {
    const reaches = (from: Layer, seen = new Set<Layer>()): Set<Layer> => {
      for (const to of MAY[from]) if (!seen.has(to)) reaches(to, seen.add(to));
      return seen;
    };
    expect(LAYERS.map(([layer]) => layer).filter((layer) => reaches(layer).has(layer))).toEqual([]);
  });

  it('each layer imports only the layers below it that the rule names', () => {
    expect(refused().filter((r) => !(r in EXCEPTIONS))).toEqual([]);
  });

  it('every named exception is still needed and says why', () => {
    const now = refused();
    expect(Object.entries(EXCEPTIONS).filter(([r, why]) => !now.includes(r) || why.trim() === '').map(([r]) => r)).toEqual([]);
  });
});

// Preloaded with `node --import` by tests that check what a command loads: every module URL the
// ESM loader loads (TypeScript sources through tsx, packages' entry points) is appended, one a line,
// to the file named by MODULE_TRACE.
import { register } from 'node:module';

register('data:text/javascript,' + encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function load(url, context, nextLoad) {
  appendFileSync(process.env.MODULE_TRACE, url + '\\n');
  return nextLoad(url, context);
}
`));

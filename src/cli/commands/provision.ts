import { readFile } from 'node:fs/promises';
import { UsageError, type Command } from '../command.ts';
import { parseArgs } from '../args.ts';

export const provisionCommand: Command = {
  name: 'provision',
  summary: 'load contracts and numbers from a JSON file (idempotent; all or nothing)',
  help: `Usage: chakushin provision FILE.json [--check]

Loads subscribers from the carrier's order system. Each contract in the file is
described whole (its numbers, services, notify and ボイスワープ settings, auth numbers); loading the
same file again changes nothing. If any entry is bad, every error is listed with its
path and nothing is written. The format is described in the README.

Rules checked against the database (a number or 認証用番号 another contract already
has) apply when loading.

  --check   validate the file only; do not touch the database`,
  async run(args) {
    const { positional, flags } = parseArgs(args, { booleans: ['check'] });
    const file = positional[0];
    if (!file || positional.length > 1) throw new UsageError('give exactly one FILE.json');
    const { applyProvisioning, ProvisioningError, validateProvisioning } = await import('../../store/provisioning.ts');
    let input: unknown;
    try {
      input = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      console.error(`${file}: ${(err as Error).message}`);
      return 1;
    }
    if (flags.has('check')) {
      const { loadConfig } = await import('../../config.ts');
      const { errors } = validateProvisioning(input, loadConfig().voiceWarp);
      for (const e of errors) console.error(`${file}: ${e}`);
      if (!errors.length) console.log(`${file}: valid`);
      return errors.length ? 1 : 0;
    }
    try {
      const { withDatabase } = await import('../context.ts');
      const summary = await withDatabase((db, config) => applyProvisioning(db.pool, input, `cli:${file}`, config.voiceWarp));
      console.log(`provisioned ${summary.contracts} contract(s), ${summary.numbers} number(s) from ${file}`);
      return 0;
    } catch (err) {
      if (!(err instanceof ProvisioningError)) throw err;
      console.error(`${file}: rejected, nothing was changed (${err.errors.length} error(s))`);
      for (const e of err.errors) console.error(`${file}: ${e}`);
      return 1;
    }
  },
};

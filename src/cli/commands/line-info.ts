import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError, type Command } from '../command.ts';
import { parseArgs } from '../args.ts';

export const lineInfoCommand: Command = {
  name: 'line-info',
  summary: '回線情報通知機能: load lines and providers (all or nothing), make a provider token',
  help: `Usage: chakushin line-info provision FILE.json [--check]
       chakushin line-info token PROVIDER

provision  loads {"lineInfo": {"providers": [...], "lines": [...]}}: the service
           providers (通知先), each line's お客さまID, IPv6 prefix and アクセスキー (plain,
           stored as a scrypt hash, or accessKeyHash), and the providers it has set to
           通知する. A listed line is described whole; loading the same file twice changes
           nothing; any bad entry rejects the whole file, every error listed by path.
           --check validates only. The format is described in the README.
token      prints a new random lookup token for PROVIDER and its lineInfo.providerTokens
           entry (the token's SHA-256): add the entry to that list in the JSON file named by
           CHAKUSHIN_CONFIG and restart the service, which reads the file at start. Give the
           token to the provider; the service keeps only the digest.`,
  async run(args) {
    const { positional, flags } = parseArgs(args, { booleans: ['check'] });
    const [sub, arg] = positional;
    if (sub === 'token') {
      if (!arg || positional.length !== 2) throw new UsageError('usage: chakushin line-info token PROVIDER');
      const token = randomBytes(32).toString('base64url');
      console.log(`token: ${token}`);
      console.log(`config: ${JSON.stringify({ provider: arg, sha256: createHash('sha256').update(token).digest('hex') })}`);
      const file = process.env.CHAKUSHIN_CONFIG ? `the JSON file named by CHAKUSHIN_CONFIG (${process.env.CHAKUSHIN_CONFIG})` : 'the JSON file named by CHAKUSHIN_CONFIG (not set here)';
      console.log(`add that entry to lineInfo.providerTokens in ${file}, then restart the service: it reads the file at start`);
      return 0;
    }
    if (sub !== 'provision' || !arg || positional.length !== 2) throw new UsageError('usage: chakushin line-info provision FILE.json [--check]');
    const { applyLineInfo, LineInfoProvisioningError, validateLineInfo } = await import('../../store/line-info-provisioning.ts');
    let input: unknown;
    try {
      input = JSON.parse(await readFile(arg, 'utf8'));
    } catch (err) {
      console.error(`${arg}: ${(err as Error).message}`);
      return 1;
    }
    if (flags.has('check')) {
      const { errors } = validateLineInfo(input);
      for (const e of errors) console.error(`${arg}: ${e}`);
      if (!errors.length) console.log(`${arg}: valid`);
      return errors.length ? 1 : 0;
    }
    try {
      const { withDatabase } = await import('../context.ts');
      const s = await withDatabase((db) => applyLineInfo(db.pool, input, { actor: `cli:${arg}` }));
      console.log(`provisioned ${s.providers} provider(s), ${s.lines} line(s) from ${arg}`);
      return 0;
    } catch (err) {
      if (!(err instanceof LineInfoProvisioningError)) throw err;
      console.error(`${arg}: rejected, nothing was changed (${err.errors.length} error(s))`);
      for (const e of err.errors) console.error(`${arg}: ${e}`);
      return 1;
    }
  },
};

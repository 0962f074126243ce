// `chakushin COMMAND …`: the operator's entry point.
import { constants } from 'node:os';
import { ConfigError } from '../config-error.ts';
import { StartFailure } from '../start-failure.ts';
import { Interrupted } from '../stop-signals.ts';
import { UsageError } from './command.ts';
import { commands } from './commands/index.ts';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: chakushin COMMAND [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `chakushin help COMMAND` or `chakushin COMMAND --help` for details.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(overview());
    return name ? 0 : 2;
  }
  if (name === 'help') {
    const cmd = commands.find((c) => c.name === rest[0]);
    console.log(cmd ? cmd.help : overview());
    return cmd || !rest[0] ? 0 : 2;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    console.error(`chakushin: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.help);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`chakushin ${cmd.name}: ${err.message}\n\n${cmd.help}`);
      return 2;
    }
    if (err instanceof StartFailure) {
      console.error(`chakushin: ${err.message}`);
      return 1;
    }
    if (err instanceof Interrupted) {
      console.error(`chakushin ${cmd.name}: ${err.message}`);
      return 128 + constants.signals[err.signal];
    }
    if (err instanceof ConfigError) {
      console.error(`chakushin: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

/** Runs one CLI invocation and returns its exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (err) {
    // Whatever was thrown or rejected, Error or not, is said (never a crash of this handler).
    console.error(`chakushin: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}

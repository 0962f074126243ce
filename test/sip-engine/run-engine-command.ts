// Runs the `engine` CLI command module as its own process (what `chakushin engine ARGS` does once registered).
import { engineCommand } from '../../src/cli/commands/engine.ts';

process.exitCode = await engineCommand.run(process.argv.slice(2));

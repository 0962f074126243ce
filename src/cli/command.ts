// A CLI subcommand. Each lives in src/cli/commands/<name>.ts and is listed in src/cli/commands/index.ts.
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full help text shown by `chakushin help NAME` and `chakushin NAME --help`. */
  help: string;
  /** Returns the process exit code. */
  run(args: string[]): Promise<number>;
}

/** A usage error: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

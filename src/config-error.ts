// A configuration that cannot run, every bad key named. Its own module so the CLI can tell it apart
// without loading the config schema (zod) for commands that never read the config, such as help.
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

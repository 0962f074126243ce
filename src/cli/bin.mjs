#!/usr/bin/env node
// The CLI is written in TypeScript; tsx's loader lets it run without a build step,
// so `npx chakushin` and `npm start` always run the sources that are checked in.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./main.ts');
const code = await runCli(process.argv.slice(2));
// tsx's loader keeps a port open; exit explicitly once the command is done.
process.exit(code);

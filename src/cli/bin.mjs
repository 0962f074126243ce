#!/usr/bin/env node
// The CLI is written in TypeScript; tsx's loader lets it run without a build step,
// so `npx chakushin` and `npm start` always run the sources that are checked in.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');

import type { Command } from '../command.ts';
import { auditCommand } from './audit.ts';
import { callsCommand } from './calls.ts';
import { catcherCommand } from './catcher.ts';
import { engineCommand } from './engine.ts';
import { faxCommand } from './fax.ts';
import { lineInfoCommand } from './line-info.ts';
import { linesCommand } from './lines.ts';
import { mailCommand } from './mail.ts';
import { migrateCommand } from './migrate.ts';
import { provisionCommand } from './provision.ts';
import { startCommand } from './start.ts';
import { tempPasswordCommand } from './temp-password.ts';
import { voiceWarpCommand } from './voice-warp.ts';
import { workerCommand } from './worker.ts';

export const commands: Command[] = [
  startCommand, engineCommand, migrateCommand, provisionCommand, callsCommand, mailCommand, tempPasswordCommand, voiceWarpCommand, auditCommand, lineInfoCommand, faxCommand, linesCommand,
  catcherCommand, workerCommand,
];

import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import type { Worker } from '../../worker.ts';
import type { FromWorker, ToWorker } from '../../workers.ts';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'an app worker of `chakushin start` (it starts them; not run by hand)',
  help: `Usage: chakushin worker

Run by \`chakushin start\`, one per core (WORKERS), over an IPC channel: an app of the node's SIP
engine holding calls (IVR, 着信お知らせメール) and sending mail. Not for use by hand.`,
  async run() {
    const send = process.send?.bind(process);
    if (!send) throw new UsageError('started by `chakushin start` over its IPC channel, not by hand');
    const tell = (m: FromWorker) => void send(m, undefined, {}, () => undefined);
    // The node is gone (killed outright): so is the SIP engine these calls ran on. Leave at once; another
    // node takes the calls over once this node's lease runs out.
    process.on('disconnect', () => process.exit(1));
    let worker: Worker | undefined;
    let stopWanted!: () => void;
    const stopRequested = new Promise<void>((r) => (stopWanted = r));
    const init = await new Promise<Extract<ToWorker, { t: 'init' }>>((resolve) => {
      process.on('message', (m: ToWorker) => {
        if (m.t === 'init') resolve(m);
        else if (m.t === 'drain') worker?.drain();
        else if (m.t === 'stop') stopWanted();
        else if (m.t === 'ask') {
          const answer = worker ? (m.what === 'health' ? worker.health() : worker.metrics()) : Promise.resolve(undefined);
          void answer.then((value) => tell({ t: 'answer', id: m.id, value }), () => tell({ t: 'answer', id: m.id, value: undefined }));
        }
      });
    });
    const { config, runtime } = init;
    const [{ createLogger }, { listenForStop }, { startWorker }] = await Promise.all([
      import('../../logger.ts'), import('../../stop-signals.ts'), import('../../worker.ts'),
    ]);
    const logger = createLogger(config.log.level).child({ worker: runtime.index + 1 });
    // In a process group of its own, a worker gets a signal only when it is sent to it: it then stops
    // as the node would have told it to (and the node replaces it). Every further one changes nothing.
    void listenForStop(logger).requested.then(() => stopWanted());
    try {
      worker = await startWorker(config, logger, runtime);
    } catch (err) {
      tell({ t: 'failed', message: `worker ${runtime.index + 1}: ${(err as Error).message}` });
      return 1;
    }
    tell({ t: 'ready' });
    await stopRequested;
    await worker.stop();
    logger.info('worker stopped');
    return 0;
  },
};

// The built-in engine in its own process, so a test can read its memory from /proc without the
// test's own sockets counting. argv[2]: JSON {secret, limits?, timers?}. Prints one JSON line
// {sip, admin} when listening; SIGTERM stops it.
import { startEngine } from '../../src/sip-engine/index.ts';

const opts = JSON.parse(process.argv[2] ?? '{}');
const engine = await startEngine({ sip: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, ...opts });
process.stdout.write(JSON.stringify({ sip: engine.sipAddress, admin: engine.adminAddress }) + '\n');
process.once('SIGTERM', () => void engine.close().then(() => process.exit(0)));

// The Bedrock simulator in zero-delay mode, as a benchmark child. Its request log is cleared every
// second so a long run does not grow it. Prints `{"url": …}` when listening.
import { startBedrockSimulator } from '../src/simulators/bedrock/index.js';
import { BENCH_AWS } from './config.js';

const sim = await startBedrockSimulator({ region: 'us-east-1', credentials: BENCH_AWS, streamEventDelayMs: 0 });
setInterval(() => (sim.requests.length = 0), 1000).unref();
process.stdout.write(`${JSON.stringify({ url: sim.url })}\n`);
process.on('SIGTERM', () => void sim.close().finally(() => process.exit(0)));

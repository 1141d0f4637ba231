// Run by translator.ts under callgrind, with plain node (no loader: in an earlier round a child
// spawned with tsx's environment counted the same translator ~40 % higher): N streams of the given bytes through the
// compiled Azure stream translator, one read each, the usage chunk dropped as for a client that did
// not ask for it. Plain JavaScript, so no loader is needed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, file, count] = process.argv.slice(2);
const { upstreamStream } = await import(pathToFileURL(join(dist, 'backends', 'azure', 'stream.js')).href);
const bytes = readFileSync(file);
const logger = { debug() {}, info() {}, warn() {}, error() {} };
async function* oneRead() {
  yield Buffer.from(bytes); // a fresh buffer per stream, as a socket read is
}
let chunks = 0;
for (let n = 0; n < Number(count); n++) {
  const stream = upstreamStream({ body: oneRead(), clientWantsUsage: false, upstreamModel: 'bench', cancel: { aborted: false }, logger });
  for await (const batch of stream.batches) chunks += batch.length;
}
process.stdout.write(`${JSON.stringify({ chunks })}\n`);

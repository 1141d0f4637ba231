// An instant OpenAI-shaped upstream on Azure's wire paths, for the benchmark: no validation, no
// token counting, the answers are built once at start. A JSON completion for a non-streamed call;
// for `"stream":true` an SSE stream of 20 content chunks, a finish chunk, a usage chunk and [DONE],
// written in one go; when the request says `paced`, the same stream in six pieces, each written in
// an event-loop turn of its own (so it arrives over several reads, as a real model's stream does,
// only without the model's pauses). Run as a child: prints one JSON line `{"url": …}` when listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import { benchCompletion, benchStream, benchStreamPieces } from './stream-fixture.js';

const created = Math.floor(Date.now() / 1000);
const completion = benchCompletion(created);
const stream = benchStream(created);

const STREAM_FLAG = Buffer.from('"stream":true');
const PACED_FLAG = Buffer.from('paced');
const pieces = benchStreamPieces(stream, 6);

async function paced(res: import('node:http').ServerResponse): Promise<void> {
  for (let i = 0; i < pieces.length - 1; i++) {
    res.write(pieces[i]);
    await turn();
  }
  res.end(pieces.at(-1));
}

const server = createServer({ keepAlive: true }, (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (p: Buffer) => parts.push(p));
  req.on('end', () => {
    const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (body.includes(STREAM_FLAG)) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'bench' });
      if (body.includes(PACED_FLAG)) void paced(res);
      else res.end(stream);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length, 'x-request-id': 'bench' });
      res.end(completion);
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));

// An instant OpenAI-shaped upstream on Azure's wire paths, for the benchmark: no validation, no
// token counting, the answers are built once at start. A JSON completion for a non-streamed call;
// for `"stream":true` an SSE stream of 20 content chunks, a finish chunk, a usage chunk and [DONE],
// written in one go. Run as a child: prints one JSON line `{"url": …}` when listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const MODEL = 'gpt-4o-2024-08-06';
const ID = 'chatcmpl-bench0000000000000000000000';
const created = Math.floor(Date.now() / 1000);
const WORDS = 'The quick brown fox jumps over the lazy dog while the gateway measures every token it passes along.'.split(' ');

const usage = { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };
const completion = Buffer.from(
  JSON.stringify({
    id: ID,
    object: 'chat.completion',
    created,
    model: MODEL,
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, message: { role: 'assistant', content: WORDS.slice(0, 20).join(' '), refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage,
  }),
);

const chunk = (delta: Record<string, unknown>, finish: string | null) =>
  `data: ${JSON.stringify({ id: ID, object: 'chat.completion.chunk', created, model: MODEL, system_fingerprint: 'fp_bench', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null })}\n\n`;
const events: string[] = [chunk({ role: 'assistant', content: '' }, null)];
for (let i = 0; i < 20; i++) events.push(chunk({ content: `${WORDS[i % WORDS.length]} ` }, null));
events.push(chunk({}, 'stop'));
events.push(`data: ${JSON.stringify({ id: ID, object: 'chat.completion.chunk', created, model: MODEL, system_fingerprint: 'fp_bench', choices: [], usage })}\n\n`);
events.push('data: [DONE]\n\n');
const stream = Buffer.from(events.join(''));

const STREAM_FLAG = Buffer.from('"stream":true');

const server = createServer({ keepAlive: true }, (req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (p: Buffer) => parts.push(p));
  req.on('end', () => {
    const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (body.includes(STREAM_FLAG)) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'bench' });
      res.end(stream);
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

// The benchmark upstream's answers, built once: a JSON completion and the SSE stream of 20 content
// chunks, a finish chunk, a usage chunk and [DONE] (OpenAI's key order). Shared by upstream.ts,
// which serves them, and translator.ts, which counts the stream translator on the same bytes.

const MODEL = 'gpt-4o-2024-08-06';
const ID = 'chatcmpl-bench0000000000000000000000';
const WORDS = 'The quick brown fox jumps over the lazy dog while the gateway measures every token it passes along.'.split(' ');
const usage = { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };

export function benchCompletion(created: number): Buffer {
  return Buffer.from(
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
}

export function benchStream(created: number): Buffer {
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    `data: ${JSON.stringify({ id: ID, object: 'chat.completion.chunk', created, model: MODEL, system_fingerprint: 'fp_bench', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null })}\n\n`;
  const events: string[] = [chunk({ role: 'assistant', content: '' }, null)];
  for (let i = 0; i < 20; i++) events.push(chunk({ content: `${WORDS[i % WORDS.length]} ` }, null));
  events.push(chunk({}, 'stop'));
  events.push(`data: ${JSON.stringify({ id: ID, object: 'chat.completion.chunk', created, model: MODEL, system_fingerprint: 'fp_bench', choices: [], usage })}\n\n`);
  events.push('data: [DONE]\n\n');
  return Buffer.from(events.join(''));
}

/** The stream cut at event boundaries into `pieces` runs of events, for the paced upstream. */
export function benchStreamPieces(stream: Buffer, pieces: number): Buffer[] {
  const ends: number[] = [];
  for (let at = stream.indexOf('\n\n'); at !== -1; at = stream.indexOf('\n\n', at + 2)) ends.push(at + 2);
  const out: Buffer[] = [];
  let from = 0;
  for (let i = 1; i <= pieces; i++) {
    const to = ends[Math.round((i * ends.length) / pieces) - 1]!;
    out.push(stream.subarray(from, to));
    from = to;
  }
  return out;
}

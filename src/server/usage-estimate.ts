// The usage of a stream that ended before the upstream reported it (the client left, the stream
// was cut): an estimate rather than billing nothing, flagged as such in the ledger
// (`usageEstimated`). Upstreams stream about one token per content chunk; the first (role) chunk
// carries none.
import type { Usage } from '../backends/types.js';

export const estimateStreamUsage = (promptTokens: number, chunks: number): Usage => ({
  input: promptTokens,
  output: Math.max(0, chunks - 1),
  cacheRead: 0,
  cacheWrite: 0,
  reasoning: 0,
});

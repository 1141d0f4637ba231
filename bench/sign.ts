// The stateful baseline's request: a Converse call the client signs itself (SigV4, as the AWS SDK
// would), so a bare proxy can pass it straight to the Bedrock simulator. Signed once per run; the
// simulator accepts a signature for 5 minutes, and every request of a run has the same body.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { BENCH_AWS, SONNET } from './config.js';

export async function signedConverse(options: { url: string; messages: number }): Promise<{ path: string; headers: Record<string, string>; body: string }> {
  const messages = Array.from({ length: options.messages }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: [{ text: i % 2 === 0 ? `turn ${i / 2}: tell me one more thing about the quick brown fox` : 'The quick brown fox jumps over the lazy dog.' }],
  }));
  const body = JSON.stringify({ messages, inferenceConfig: { maxTokens: 64 } });
  const { hostname, port, host } = new URL(options.url);
  const path = `/model/${encodeURIComponent(SONNET)}/converse`;
  const signer = new SignatureV4({ service: 'bedrock', region: 'us-east-1', credentials: BENCH_AWS, sha256: Sha256 });
  const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname, port: Number(port), path, headers: { host, 'content-type': 'application/json' }, body });
  return { path, headers: signed.headers as Record<string, string>, body };
}

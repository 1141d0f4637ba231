import { NodeHttpHandler } from '@smithy/node-http-handler';
import { describe, expect, it } from 'vitest';
import { createBedrockClient } from '../../../src/backends/bedrock/client.js';
import { bedrockConfigSchema } from '../../../src/backends/bedrock/config.js';

describe('createBedrockClient', () => {
  it('one attempt, HTTP/1.1 keep-alive handler, region, endpoint and static credentials', async () => {
    const client = createBedrockClient(
      bedrockConfigSchema.parse({ type: 'bedrock', region: 'eu-central-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'AKID', secretAccessKey: 'S' }, maxSockets: 8 }),
      5_000,
    );
    try {
      expect(await client.config.maxAttempts()).toBe(1);
      expect(await client.config.region()).toBe('eu-central-1');
      expect(client.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
      const identity = await client.config.credentials();
      expect(identity).toMatchObject({ accessKeyId: 'AKID', secretAccessKey: 'S' });
    } finally {
      client.destroy();
    }
  });
});

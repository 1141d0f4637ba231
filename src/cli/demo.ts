// `npm start`: the two simulators on loopback, then a gateway on the demo config in front of them.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import { startGateway } from '../gateway.js';
import { startAzureSimulator } from '../simulators/azure/index.js';
import { startBedrockSimulator } from '../simulators/bedrock/index.js';
import { stopOnSignals } from './serve.js';

const DEMO_CONFIG = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'config', 'stateroute.yaml');

// These match config/stateroute.yaml: simulator credentials, not real ones.
const AZURE_KEY = 'demo-azure-key';
const BEDROCK_CREDENTIALS = { accessKeyId: 'AKIDSTATEROUTEDEMO', secretAccessKey: 'demo-bedrock-secret' };

export async function runDemo(options: { port?: string | undefined }): Promise<number> {
  const azure = await startAzureSimulator({
    apiKey: AZURE_KEY,
    deployments: { 'gpt-4o-prod': 'gpt-4o-2024-08-06', 'gpt-4o-mini-prod': 'gpt-4o-mini-2024-07-18', 'embed-small': 'text-embedding-3-small' },
  });
  const bedrock = await startBedrockSimulator({
    region: 'us-east-1',
    credentials: BEDROCK_CREDENTIALS,
    models: ['anthropic.claude-sonnet-4-20250514-v1:0', 'anthropic.claude-haiku-4-5-20251001-v1:0'],
  });
  const env: Record<string, string | undefined> = { ...process.env, STATEROUTE_DEMO_AZURE_URL: azure.url, STATEROUTE_DEMO_BEDROCK_URL: bedrock.url };
  if (options.port) env.PORT = options.port;
  const config = loadConfigFile(DEMO_CONFIG, env);
  const gateway = await startGateway({ config, configFile: DEMO_CONFIG });
  const key = config.auth.keys[0]?.key ?? 'sk-stateroute-demo';
  process.stdout.write(`
stateroute demo is running at ${gateway.url}
  Azure OpenAI simulator  ${azure.url}
  Bedrock simulator       ${bedrock.url}

Try it:
  curl -s ${gateway.url}/v1/chat/completions -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\
    -d '{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}'

Or with openai-node (a session header routes to the stateful runtime):
  import OpenAI from 'openai';
  const client = new OpenAI({ baseURL: '${gateway.url}/v1', apiKey: '${key}' });
  const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] },
    { headers: { 'x-session-id': 'demo-1' } });
  console.log(r.choices[0].message.content);

Ctrl-C stops it.
`);
  stopOnSignals(async () => {
    await gateway.stop();
    await Promise.allSettled([azure.close(), bedrock.close()]);
  });
  return -1;
}

import { z } from 'zod';

// https://learn.microsoft.com/azure/ai-services/openai/reference
export const azureOpenAIConfigSchema = z
  .object({
    type: z.literal('azure-openai'),
    endpoint: z.url({ error: 'must be the resource URL, e.g. "https://my-resource.openai.azure.com"' }),
    apiKey: z.string({ error: 'required: the resource key (put ${AZURE_OPENAI_API_KEY} here, not the key itself)' }).min(1),
    /** `deployments`: /openai/deployments/{d}/…?api-version=…; `v1`: /openai/v1/… with no api-version. */
    surface: z.enum(['deployments', 'v1']).default('deployments'),
    apiVersion: z.string().regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, 'must look like "2024-10-21"').optional(),
    /** Client model name → Azure deployment name. Models not listed are refused with 404. */
    deployments: z.record(z.string(), z.string().min(1)).default({}),
    timeoutMs: z.number().int().positive().default(600_000),
    /** Chat completions over a raw keep-alive pass-through (`passthrough`, measured 3× cheaper per
     * request) or through the openai SDK client (`sdk`). Both speak the same wire; embeddings always use the SDK. */
    transport: z.enum(['passthrough', 'sdk']).default('passthrough'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.surface === 'deployments' && !cfg.apiVersion)
      ctx.addIssue({ code: 'custom', path: ['apiVersion'], message: 'required, e.g. "2024-10-21"' });
    if (cfg.surface === 'v1' && cfg.apiVersion)
      ctx.addIssue({ code: 'custom', path: ['apiVersion'], message: 'not used by the v1 surface (no api-version there): remove it, or use surface "deployments"' });
  });
export type AzureOpenAIConfig = z.infer<typeof azureOpenAIConfigSchema>;

// Any OpenAI-compatible base URL (OpenAI itself, vLLM, a local server): the same code as Azure without the path rewrite.
export const openAICompatibleConfigSchema = z
  .object({
    type: z.literal('openai-compatible'),
    baseURL: z.url({ error: 'must be the API base URL, e.g. "https://api.openai.com/v1"' }),
    apiKey: z.string().min(1),
    /** Client model name → upstream model name. */
    models: z.record(z.string(), z.string().min(1)).default({}),
    timeoutMs: z.number().int().positive().default(600_000),
    /** Chat completions over a raw keep-alive pass-through (`passthrough`, measured 3× cheaper per
     * request) or through the openai SDK client (`sdk`). Both speak the same wire; embeddings always use the SDK. */
    transport: z.enum(['passthrough', 'sdk']).default('passthrough'),
  })
  .strict();
export type OpenAICompatibleConfig = z.infer<typeof openAICompatibleConfigSchema>;

// POST /v1/embeddings — https://platform.openai.com/docs/api-reference/embeddings/create
import type { Handler } from 'hono';
import { GatewayError, invalidRequest } from '../../errors.js';
import type { AppEnv } from '../context.js';
import { exchange, route, type ExchangeDeps } from '../exchange.js';
import { requireModel, requireObject } from '../validate.js';

export function embeddings(deps: ExchangeDeps): Handler<AppEnv> {
  return async function embeddingsHandler(c) {
    const body = requireObject(c.get('body'));
    const model = requireModel(body);
    const input = body.input;
    if (input === undefined) throw invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter');
    if (typeof input !== 'string' && !Array.isArray(input)) throw invalidRequest("Invalid type for 'input': expected a string or an array.", 'input', 'invalid_type');
    const { facts, decision, backend } = route(c, body);
    return exchange(c, deps, {
      operation: 'embeddings',
      model,
      stream: false,
      facts,
      decision,
      backend,
      call: async (b, ctx) => {
        if (!b.embeddings)
          throw new GatewayError({ status: 400, message: `Embeddings are not supported by the backend of route "${decision.route}".`, param: 'model', code: 'unsupported_operation' });
        return b.embeddings({ body: body as typeof body & { model: string }, model: decision.target.model ?? model }, ctx);
      },
    });
  };
}

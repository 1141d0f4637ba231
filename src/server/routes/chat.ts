// POST /v1/chat/completions — https://platform.openai.com/docs/api-reference/chat/create
import type { Handler } from 'hono';
import { promptTokens } from '../../limits/estimate.js';
import type { AppEnv } from '../context.js';
import type { OpenTurnInput } from '../session-turn.js';
import { exchange, route, type ExchangeDeps, type Turn } from '../exchange.js';
import { chatBody, wantsStreamUsage } from '../validate.js';

export interface ChatRouteDeps extends ExchangeDeps {
  /** Opens a session turn for stateful routes (undefined: sessions not wired). */
  openTurn?: (input: OpenTurnInput) => Promise<Turn>;
}

export function chatCompletions(deps: ChatRouteDeps): Handler<AppEnv> {
  // Not async: it returns exchange()'s promise as it is (an async function would adopt it through
  // two more microtasks); a throw before it still reaches Hono's error handler.
  return function chatCompletionsHandler(c) {
    const body = chatBody(c.get('body'), c.get('runtime').config.server.maxMessages);
    const { facts, decision, backend } = route(c, body);
    const stream = body.stream === true;
    const sessionId = decision.kind === 'stateful' ? facts.sessionId : undefined;
    return exchange(c, deps, {
      operation: 'chat',
      model: body.model,
      stream,
      facts,
      decision,
      backend,
      promptTokens: (turn) => promptTokens(turn?.messages ?? body.messages),
      turn:
        sessionId && deps.openTurn
          ? (signal) => deps.openTurn!({ tenant: c.get('tenant'), sessionId, messages: body.messages, signal, stream })
          : undefined,
      call: (b, ctx, turn) =>
        b.chat(
          {
            body: turn?.messages ? { ...body, messages: turn.messages as typeof body.messages } : body,
            bodySource: c.get('bodySource'),
            model: decision.target.model ?? body.model,
            stream,
            clientWantsStreamUsage: wantsStreamUsage(body),
            historyLength: turn?.historyLength,
            history: turn?.history,
          },
          ctx,
        ),
    });
  };
}

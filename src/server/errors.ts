// The one place where errors become responses: OpenAI's error shape, the right status, and any
// retry headers the error carries. Handlers only throw.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { GatewayError, toGatewayError } from '../errors.js';
import type { AppEnv } from './context.js';

export function errorResponse(c: Context<AppEnv>, error: GatewayError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json(error.toJSON(), error.status as 400);
}

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const error =
    err instanceof HTTPException
      ? new GatewayError({ status: err.status, message: err.message || 'Bad request.' })
      : toGatewayError(err);
  const logger = c.get('logger');
  if (error.status >= 500) logger?.error({ err: err instanceof GatewayError ? (err.cause ?? err) : err, status: error.status }, 'request failed');
  else logger?.info({ status: error.status, code: error.code }, error.message);
  return errorResponse(c, error);
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, new GatewayError({ status: 404, message: `Unknown request URL: ${c.req.method} ${c.req.path}.`, code: 'unknown_url' }));

export const methodNotAllowed = (allowed: string) =>
  function methodNotAllowedHandler(c: Context<AppEnv>): Response {
    c.header('allow', allowed);
    return errorResponse(c, new GatewayError({ status: 405, message: `Method ${c.req.method} is not allowed on ${c.req.path}; use ${allowed}.`, code: 'method_not_allowed' }));
  };

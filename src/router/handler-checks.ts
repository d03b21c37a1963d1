import { escalationConfigProblems } from '../escalation/handler';
import { errorMessage } from '../shared/errors';
import { isRecord } from '../shared/validation';
import type { RouteHandler } from './types';

/** The function each handler kind must supply, by `kind`. */
const HANDLER_FUNCTIONS = { human: 'onHandoff', host: 'onRoute' } as const;

/**
 * The host's handlers, checked when set (host pages are plain JavaScript): every problem, each
 * naming its handler, and the handlers to use. One that throws while it is read is left out (the
 * session then reports the route that names it); the others are kept as they are, so a turn that
 * needs a broken one fails on its own with a short notice.
 */
export function checkHandlers(handlers: unknown): {
  handlers: Readonly<Record<string, RouteHandler>> | undefined;
  problems: string[];
} {
  const readable: Record<string, RouteHandler> = {};
  const problems: string[] = [];
  if (handlers === undefined || handlers === null) return { handlers: undefined, problems };
  let names: string[];
  try {
    if (!isRecord(handlers)) throw new Error('an object of handlers by name is expected');
    names = Object.keys(handlers);
  } catch (error) {
    return { handlers: readable, problems: [`"handlers": ${errorMessage(error)}`] };
  }
  let dropped = false;
  for (const name of names) {
    const where = `handlers.${name}`;
    try {
      const handler: unknown = handlers[name];
      if (!isRecord(handler)) {
        problems.push(`${where} must be an object with a "kind"`);
      } else if (handler.kind === 'agent') {
        if (!('respond' in handler)) {
          const endpoint = escalationConfigProblems({ ...handler, kind: 'chat-completions' });
          problems.push(
            ...endpoint.map((problem) => `${where} (an agent without "respond"): ${problem}`),
          );
        } else if (typeof handler.respond !== 'function') {
          problems.push(`${where}.respond must be a function`);
        }
      } else if (handler.kind === 'human' || handler.kind === 'host') {
        const key = HANDLER_FUNCTIONS[handler.kind];
        if (typeof handler[key] !== 'function') problems.push(`${where}.${key} must be a function`);
      } else {
        problems.push(`${where}.kind must be "agent", "human" or "host"`);
      }
      readable[name] = handler as RouteHandler;
    } catch (error) {
      problems.push(`${where} could not be read: ${errorMessage(error)}`);
      dropped = true;
    }
  }
  // NOTE: the host's own object when nothing was left out (a host may still add to it).
  return {
    handlers: dropped ? readable : (handlers as Readonly<Record<string, RouteHandler>>),
    problems,
  };
}

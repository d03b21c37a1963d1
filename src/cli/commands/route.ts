import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { validateCatalog } from '../../catalog/catalog';
import { catalogModelDifferences, describeMismatch } from '../../catalog/model-match';
import type { Catalog } from '../../catalog/types';
import type { Classification } from '../../engine/classification';
import { LocalClassifier } from '../../engine/local-classifier';
import { decideRoute, type RouteDecision } from '../../router/routing';
import { CatalogMismatchError, errorMessage } from '../../shared/errors';
import { parseLanguage, type Language } from '../../shared/language';
import { openModelFolder } from '../model';
import { CliError, parseFlags, UsageError } from '../options';
import { fixed } from '../table';
import { visible } from '../terminal';
import type { CommandContext } from '../context';

/** One message's routing decision, as `--json` prints it. */
interface RoutedMessage {
  message: string;
  intentId: string;
  label: string;
  confidence: number;
  route: RouteDecision['taken'];
  /** A template route's reply, in `--lang`. */
  reply?: string;
  /** A tool route's proposed call: its arguments and the required ones still missing. */
  call?: { name: string; arguments: Record<string, unknown>; missing: string[] };
}

function readCatalogFile(path: string): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`--catalog ${path}: ${errorMessage(error)}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--catalog ${path}: not JSON (${errorMessage(error)})`, { cause: error });
  }
  return validateCatalog(value, path);
}

/**
 * `fenliu route "text" …`: where each message would go — the routing decision of the router
 * session (src/router/routing.ts) on the in-process classifier — without running tools, agents
 * or hand-offs. The catalog must match the model first.
 */
export async function routeCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      model: { type: 'string' },
      dtype: { type: 'string' },
      catalog: { type: 'string' },
      lang: { type: 'string', default: 'zh' },
      json: { type: 'boolean', default: false },
    },
    true,
  );
  if (positionals.length === 0) throw new UsageError('give the message to route, in quotes');
  if (values.lang !== 'zh' && values.lang !== 'en') {
    throw new UsageError(`--lang must be zh or en, not "${values.lang}"`);
  }
  const language: Language = parseLanguage(values.lang);
  const catalog = values.catalog ? readCatalogFile(resolve(context.cwd, values.catalog)) : null;
  const { folder, card } = await openModelFolder(values.model, context.cwd);
  if (catalog) {
    const differences = catalogModelDifferences(catalog, card);
    if (differences.length > 0) {
      throw new CatalogMismatchError(differences, describeMismatch(differences, folder.modelId));
    }
  }
  const classifier = new LocalClassifier({
    modelId: folder.modelId,
    device: 'cpu',
    ...(values.dtype !== undefined && { dtype: values.dtype }),
  });
  try {
    const status = await classifier.load();
    if (status.state === 'error') throw new CliError(status.error.message);
    const routed: RoutedMessage[] = [];
    for (const text of positionals) {
      const result = await classifier.classify(text, { signal: context.signal });
      routed.push(describeDecision(text, result, decideRoute(result, catalog), language));
    }
    if (values.json) {
      context.out(JSON.stringify(routed.length === 1 ? routed[0] : routed, null, 2));
    } else {
      context.out(routed.map(formatDecision).join('\n\n'));
    }
    return 0;
  } finally {
    await classifier.dispose();
  }
}

function describeDecision(
  message: string,
  result: Classification,
  decision: RouteDecision,
  language: Language,
): RoutedMessage {
  const routed: RoutedMessage = {
    message,
    intentId: result.intentId,
    label: result.label,
    confidence: result.confidence,
    route: decision.taken,
  };
  if (decision.route?.kind === 'reply') routed.reply = decision.route.text[language];
  if (decision.route?.kind === 'tool' && result.toolCall) {
    const { name, arguments: callArguments, missing } = result.toolCall;
    routed.call = { name, arguments: callArguments, missing };
  }
  return routed;
}

/** Where the route leads, in words: `agent → billing`, `human → service_desk (queue complaints)`. */
function destination(route: RouteDecision['taken']): string {
  return visible(destinationText(route));
}

function destinationText(route: RouteDecision['taken']): string {
  switch (route.kind) {
    case 'escalation':
      return `escalation (${route.reason})`;
    case 'human':
      return `human → ${route.handler ?? '?'} (queue ${route.queue ?? '?'})`;
    case 'tool':
      return `tool → ${route.tool ?? '?'}`;
    default:
      return route.handler === undefined ? route.kind : `${route.kind} → ${route.handler}`;
  }
}

function formatDecision(routed: RoutedMessage): string {
  const lines = [
    `message     ${visible(routed.message)}`,
    `intent      ${visible(routed.label)} (${visible(routed.intentId)}), confidence ${fixed(routed.confidence)}`,
    `route       ${destination(routed.route)}`,
  ];
  if (routed.reply !== undefined) lines.push(`reply       ${visible(routed.reply)}`);
  if (routed.call) {
    const missing =
      routed.call.missing.length > 0 ? `; asks for ${routed.call.missing.join(', ')}` : '';
    lines.push(
      visible(`call        ${routed.call.name} ${JSON.stringify(routed.call.arguments)}${missing}`),
    );
  }
  return lines.join('\n');
}

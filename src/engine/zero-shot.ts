import type { Catalog } from '../catalog/types';

/** A labelled message shown to the model as an example in zero-shot mode. */
export interface FewShotExample {
  text: string;
  label: string;
}

/**
 * The system prompt of zero-shot mode: with no fine-tuned model yet, a base Qwen3 reads the
 * catalog (labels with their descriptions) and optional examples, and the label trie keeps its
 * answer to exactly one label. The prompt is long, but it is the cached prefix of every message,
 * so the model computes it once per session.
 *
 * @example
 * buildZeroShotSystemPrompt(catalog, [{ text: '我的快递到哪了', label: '物流查询' }]);
 */
export function buildZeroShotSystemPrompt(
  catalog: Catalog,
  examples: readonly FewShotExample[] = [],
): string {
  const lines = [
    'You route customer-service messages. Reply with exactly one intent label from the list, ' +
      'copied character for character, and nothing else.',
    '你是客服消息的意图分类器。只回答下列意图标签中的一个，不要输出其他内容。',
    '',
    'Intents (label: description):',
    ...catalog.intents.map(
      (intent) => `- ${intent.label}: ${intent.description.zh} / ${intent.description.en}`,
    ),
  ];
  const fallback = catalog.intents.find((intent) => intent.id === catalog.fallbackIntent);
  if (fallback) lines.push('', `If no other intent fits, answer ${fallback.label}.`);
  if (examples.length > 0) {
    lines.push(
      '',
      'Examples:',
      ...examples.map((example) => `${example.text} => ${example.label}`),
    );
  }
  return lines.join('\n');
}

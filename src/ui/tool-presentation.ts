import { PLACEHOLDER, placeholdersOf } from '../catalog/catalog';
import type {
  LocalizedText,
  ResultFormat,
  ToolArguments,
  ToolPresentation,
  ToolSpec,
} from '../catalog/types';
import { isRecord } from '../shared/validation';

/**
 * A tool call in the customer's words: the card's title, its arguments and result as labelled
 * rows, the confirmation sentence and quick-reply labels, all from the catalog's `presentation`
 * block (src/catalog/types.ts, `ToolPresentation`). Pure functions over the spec and the call;
 * where the catalog says nothing they fall back to the description, keys and raw values, so a
 * catalog without a presentation still shows every call. Every string returned is plain text,
 * to be rendered as text.
 */

/** A UI language (the keys of `LocalizedText`). */
export type PresentationLanguage = keyof LocalizedText;

/** One `label: value` line of a card; `key` is the argument or result key it shows. */
export interface PresentedRow {
  key: string;
  label: string;
  value: string;
}

/** Between the items of a list: as the demo shop writes items (`，`), and in English. */
const LIST_SEPARATOR: Record<PresentationLanguage, string> = { zh: '，', en: ', ' };
const YES_NO: Record<PresentationLanguage, readonly [string, string]> = {
  zh: ['是', '否'],
  en: ['Yes', 'No'],
};
const MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
] as const;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** An entry of a one-line list: a name, then an optional quantity (`无线耳机 ×1`). */
const LIST_ENTRY = /^(.+?)(\s*×\s*\d+)$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Fills `{name}` placeholders from `values`; a placeholder without a value stays as it is. */
function fill(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(values, name) ? (values[name] ?? whole) : whole,
  );
}

/**
 * A value in the customer's words: its entry in the presentation's `values`, or the first
 * template key (`订单 {order_id}`) it matches with the captured text copied in, or the value.
 */
function localizedValue(
  presentation: ToolPresentation | undefined,
  value: string,
  language: PresentationLanguage,
): string {
  const table = presentation?.values;
  if (table === undefined) return value;
  if (Object.hasOwn(table, value)) return table[value]?.[language] ?? value;
  for (const [key, text] of Object.entries(table)) {
    const names = placeholdersOf(key);
    if (names.length === 0) continue;
    const pattern = key
      .split(PLACEHOLDER)
      .map((part, index) => (index % 2 === 1 ? '(.+?)' : escapeRegExp(part)))
      .join('');
    const match = new RegExp(`^${pattern}$`, 'u').exec(value);
    if (!match) continue;
    const captured: Record<string, string> = {};
    // NOTE: split keeps the captured names at odd indexes, in the order the groups capture.
    key
      .split(PLACEHOLDER)
      .filter((_, index) => index % 2 === 1)
      .forEach((name, index) => {
        captured[name] = match[index + 1] ?? '';
      });
    return fill(text[language], captured);
  }
  return value;
}

/** `2024-11-26` as `2024年11月26日` or `Nov 26, 2024`; anything else is not a date (null). */
function formatDate(value: string, language: PresentationLanguage): string | null {
  const match = DATE.exec(value);
  if (!match) return null;
  const [, year, month, day] = match;
  const monthIndex = Number(month) - 1;
  const monthName = MONTHS[monthIndex];
  if (monthName === undefined || Number(day) < 1 || Number(day) > 31) return null;
  return language === 'zh'
    ? `${year ?? ''}年${monthIndex + 1}月${Number(day)}日`
    : `${monthName} ${Number(day)}, ${year ?? ''}`;
}

/** A one-line list (`手机壳 ×2，数据线 ×1`) with each entry's name in the customer's words. */
function formatList(
  presentation: ToolPresentation | undefined,
  value: string,
  language: PresentationLanguage,
): string {
  return value
    .split(/\s*[，、,]\s*/)
    .filter((entry) => entry !== '')
    .map((entry) => {
      const whole = localizedValue(presentation, entry, language);
      if (whole !== entry) return whole;
      const quantity = LIST_ENTRY.exec(entry);
      if (!quantity) return entry;
      const [, name = '', count = ''] = quantity;
      return `${localizedValue(presentation, name, language)}${count}`;
    })
    .join(LIST_SEPARATOR[language]);
}

/**
 * Any argument or result value as customer text (see `ResultFormat` for what each format does
 * and how arrays and objects are written), or null when there is nothing to show: absent,
 * null, an empty string, an empty list.
 */
function valueText(
  presentation: ToolPresentation | undefined,
  value: unknown,
  language: PresentationLanguage,
  format?: ResultFormat,
): string | null {
  if (typeof value === 'string') {
    if (value === '') return null;
    if (Object.hasOwn(presentation?.values ?? {}, value)) {
      return localizedValue(presentation, value, language);
    }
    if (format === 'date')
      return formatDate(value, language) ?? localizedValue(presentation, value, language);
    if (format === 'list') return formatList(presentation, value, language);
    return localizedValue(presentation, value, language);
  }
  if (typeof value === 'number') {
    if (format === 'yuan' && Number.isFinite(value)) return `¥${value.toFixed(2)}`;
    return localizedValue(presentation, String(value), language);
  }
  if (typeof value === 'boolean') return YES_NO[language][value ? 0 : 1];
  if (Array.isArray(value)) {
    const items = value.flatMap((item: unknown) => {
      const text = valueText(presentation, item, language, format);
      return text === null ? [] : [text];
    });
    return items.length === 0 ? null : items.join(LIST_SEPARATOR[language]);
  }
  if (isRecord(value)) {
    const parts = Object.values(value).flatMap((item) => {
      if (typeof item === 'object' && item !== null) return [];
      const text = valueText(presentation, item, language);
      return text === null ? [] : [text];
    });
    return parts.length === 0 ? null : parts.join(' · ');
  }
  return null;
}

/**
 * The tool's name for a customer: the presentation's title, else the tool's description, else
 * its name.
 *
 * @example
 * toolTitle(requestRefund, 'en') // 'Refund request'
 */
export function toolTitle(spec: ToolSpec, language: PresentationLanguage): string {
  return spec.presentation?.title[language] || spec.description[language] || spec.name;
}

/** The customer's name for a parameter, else its key. */
function fieldLabel(spec: ToolSpec, key: string, language: PresentationLanguage): string {
  const fields = spec.presentation?.fields ?? {};
  return Object.hasOwn(fields, key) ? (fields[key]?.[language] ?? key) : key;
}

/**
 * The call's arguments as rows, in the order the tool declares its parameters (then any others):
 * the parameter's name for customers (else its key) and the value in their words (an enum value
 * through `values`, `true` as Yes; else the value as given). Absent and empty values are left out.
 *
 * @example
 * argumentRows(requestRefund, { order_id: '2024113012345', reason: '尺码不合适' }, 'en')
 * // [{ key: 'order_id', label: 'Order number', value: '2024113012345' },
 * //  { key: 'reason', label: 'Reason', value: 'Wrong size' }]
 */
export function argumentRows(
  spec: ToolSpec,
  args: Readonly<Partial<ToolArguments>>,
  language: PresentationLanguage,
): PresentedRow[] {
  const declared = Object.keys(spec.parameters.properties);
  const keys = [...declared, ...Object.keys(args).filter((key) => !declared.includes(key))];
  return keys.flatMap((key) => {
    if (!Object.hasOwn(args, key)) return [];
    const value = valueText(spec.presentation, args[key], language);
    return value === null ? [] : [{ key, label: fieldLabel(spec, key, language), value }];
  });
}

/**
 * What a confirmation says will change: the first of the presentation's `confirm` sentences
 * whose placeholders all have arguments, filled with the arguments in the customer's words; else
 * the title and every argument as `label: value`. A statement only: the widget adds its own
 * question and buttons.
 *
 * @example
 * confirmSentence(requestRefund, { order_id: '2024113012345', reason: '尺码不合适' }, 'en')
 * // 'Request a refund for order 2024113012345. Reason: Wrong size.'
 * confirmSentence(requestRefund, { order_id: '2024113012345' }, 'zh')
 * // '为订单 2024113012345 申请退款。'
 */
export function confirmSentence(
  spec: ToolSpec,
  args: Readonly<Partial<ToolArguments>>,
  language: PresentationLanguage,
): string {
  const rows = argumentRows(spec, args, language);
  const shown = Object.fromEntries(rows.map((row) => [row.key, row.value]));
  const confirm = spec.presentation?.confirm;
  const sentences = confirm === undefined ? [] : Array.isArray(confirm) ? confirm : [confirm];
  for (const sentence of sentences) {
    const template = sentence[language];
    if (placeholdersOf(template).every((name) => Object.hasOwn(shown, name))) {
      return fill(template, shown);
    }
  }
  // NOTE: a description used as the title is a sentence; its full stop would end the line early.
  const title = toolTitle(spec, language).replace(/[。.!！]+$/u, '');
  if (rows.length === 0) return language === 'zh' ? `${title}。` : `${title}.`;
  return language === 'zh'
    ? `${title}：${rows.map((row) => `${row.label}：${row.value}`).join('；')}。`
    : `${title}: ${rows.map((row) => `${row.label}: ${row.value}`).join('; ')}.`;
}

/**
 * The tool's result as rows: the fields the presentation's `result` lists, in its order, with
 * their labels and formats; without that list, every field that is a string, number or boolean,
 * labelled with the parameter's name when it is one (else its key). Absent and empty fields are
 * left out; a result that is not an object has no rows.
 *
 * @example
 * resultRows(requestRefund, { order_id: '2024113012345', refund_id: 'RF20241124001',
 *   amount: 299, reason: '尺码不合适', status: '已受理' }, 'en')
 * // [{ key: 'refund_id', label: 'Refund number', value: 'RF20241124001' }, …,
 * //  { key: 'amount', label: 'Refund amount', value: '¥299.00' }, …,
 * //  { key: 'status', label: 'Status', value: 'Accepted' }]
 */
export function resultRows(
  spec: ToolSpec,
  result: unknown,
  language: PresentationLanguage,
): PresentedRow[] {
  if (!isRecord(result)) return [];
  const { presentation } = spec;
  if (presentation?.result !== undefined) {
    return presentation.result.flatMap(({ key, label, format }) => {
      if (!Object.hasOwn(result, key)) return [];
      const value = valueText(presentation, result[key], language, format);
      return value === null ? [] : [{ key, label: label[language], value }];
    });
  }
  return Object.entries(result).flatMap(([key, item]) => {
    if (typeof item === 'object' || item === undefined) return [];
    const value = valueText(presentation, item, language);
    return value === null ? [] : [{ key, label: fieldLabel(spec, key, language), value }];
  });
}

/**
 * The label of a quick reply for one of parameter `key`'s enum values: the value in the
 * customer's words (the presentation's `values`), else the value itself. The reply sends
 * `value`, not the label.
 *
 * @example
 * choiceLabel(requestRefund, 'reason', '尺码不合适', 'en') // 'Wrong size'
 */
export function choiceLabel(
  spec: ToolSpec,
  key: string,
  value: string | number | boolean,
  language: PresentationLanguage,
): string {
  // NOTE: one value table serves every parameter and the result; `key` keeps the call site
  // explicit about which parameter's choice it labels.
  return valueText(spec.presentation, value, language) ?? String(value);
}

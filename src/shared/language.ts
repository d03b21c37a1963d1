/** The languages fenliu speaks to customers (UI, template replies, hand-off notices). */
export type Language = 'zh' | 'en';

/** A language from an attribute, a URL switch or saved state: English when it says so, else Chinese. */
export function parseLanguage(value: string | null | undefined): Language {
  return value?.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

/**
 * Character unigrams and bigrams of `text`, for bag-of-features classifiers on Chinese, which
 * has no spaces between words. Lower-cased; whitespace and punctuation are dropped and break
 * bigrams (a bigram never spans them).
 *
 * @example
 * charNgrams('查 订单!'); // ['查', '订', '单', '订单']
 */
export function charNgrams(text: string): string[] {
  const runs = text.toLowerCase().split(/[\s\p{P}\p{S}]+/u);
  const unigrams: string[] = [];
  const bigrams: string[] = [];
  for (const run of runs) {
    const chars = Array.from(run);
    unigrams.push(...chars);
    for (let i = 0; i + 1 < chars.length; i++)
      bigrams.push(`${chars[i] ?? ''}${chars[i + 1] ?? ''}`);
  }
  return [...unigrams, ...bigrams];
}

/**
 * The JavaScript intent classifiers a team would otherwise pick, trained and queried the way
 * their documentation shows, with default settings:
 *
 * - nlp.js (`@nlpjs/nlp` + `@nlpjs/lang-en-min` / `@nlpjs/lang-zh`): its neural NLU, answering
 *   `None` below its default threshold 0.5;
 * - natural's `BayesClassifier`: Porter-stemmed words for English; for Chinese (which its
 *   tokenizers do not segment) character unigrams and bigrams from `charNgrams`.
 */
import { containerBootstrap } from '@nlpjs/core';
import { LangEn } from '@nlpjs/lang-en-min';
import { LangZh } from '@nlpjs/lang-zh';
import { Nlp } from '@nlpjs/nlp';
import natural from 'natural';
import { charNgrams } from './char-ngrams';
import type { Example } from './datasets';

/** A system's answer: a dataset label, or null when it declines (nlp.js `None`). */
export interface Prediction {
  label: string | null;
  /** The system's own score for its answer, in [0, 1]. */
  confidence: number;
}

export interface TrainedSystem {
  /** Wall seconds from the first training row to a model ready to answer. */
  trainSeconds: number;
  /** Bytes of the model as the library serialises it. */
  modelBytes: number;
  predict(text: string): Promise<Prediction>;
}

export interface PeerSystem {
  name: string;
  train(examples: readonly Example[], language: 'en' | 'zh'): Promise<TrainedSystem>;
}

/** nlp.js's label for "no intent reached the threshold". */
const NLPJS_NONE = 'None';

export const nlpjs: PeerSystem = {
  name: 'nlp.js',
  async train(examples, language) {
    const started = performance.now();
    const container = await containerBootstrap();
    container.use(Nlp);
    container.use(language === 'zh' ? LangZh : LangEn);
    const nlp = container.get('nlp');
    // NOTE: autoSave would write model.nlp into the working directory after training.
    nlp.settings.autoSave = false;
    nlp.addLanguage(language);
    for (const { text, label } of examples) nlp.addDocument(language, text, label);
    await nlp.train();
    const trainSeconds = (performance.now() - started) / 1000;
    return {
      trainSeconds,
      modelBytes: Buffer.byteLength(nlp.export(true)),
      async predict(text) {
        const result = await nlp.process(language, text);
        const label = result.intent === NLPJS_NONE ? null : result.intent;
        return { label, confidence: result.score };
      },
    };
  },
};

export const naturalBayes: PeerSystem = {
  name: 'natural Bayes',
  train(examples, language) {
    const started = performance.now();
    const classifier = new natural.BayesClassifier();
    // English: natural's default tokenize-and-stem (Porter). Chinese: character n-grams.
    const features = (text: string): string | string[] =>
      language === 'zh' ? charNgrams(text) : text;
    for (const { text, label } of examples) classifier.addDocument(features(text), label);
    classifier.train();
    const trainSeconds = (performance.now() - started) / 1000;
    return Promise.resolve({
      trainSeconds,
      modelBytes: Buffer.byteLength(JSON.stringify(classifier)),
      predict(text) {
        const ranked = classifier.getClassifications(features(text));
        const total = ranked.reduce((sum, { value }) => sum + value, 0);
        const best = ranked[0];
        return Promise.resolve({
          label: best?.label ?? null,
          confidence: best && total > 0 ? best.value / total : 0,
        });
      },
    });
  },
};

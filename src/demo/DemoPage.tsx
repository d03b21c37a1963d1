import { useState, type ReactNode } from 'react';
import type { Language } from '../shared/language';

const WORDS = {
  zh: {
    title: '分流 fenliu · 离线演示',
    lead: '一个小模型在你的浏览器里识别每条消息的意图，再交给对应的处理方：查订单、退款、人工客服……消息不会离开本机。',
    inspect: '显示检查器（运营视图）',
    inspectHint: '每条消息的意图、置信度、路由和耗时；可以纠正识别错误并导出为训练数据。',
  },
  en: {
    title: 'fenliu · offline demo',
    lead: 'A small model in your browser reads the intent of each message and hands it to the right place: order lookup, refunds, a person… Messages never leave this device.',
    inspect: 'Show the inspector (operator view)',
    inspectHint:
      'Each message’s intent, confidence, route and timings; correct a wrong intent and export it as training data.',
  },
} as const;

/**
 * The offline demo's page: what it is, the operator's inspector switch, and the chat widget open
 * in its launcher as a shop's customers would see it.
 */
export function DemoPage({
  initialInspect,
  language,
  children,
}: {
  initialInspect: boolean;
  language: Language;
  children: (inspect: boolean) => ReactNode;
}) {
  const [inspect, setInspect] = useState(initialInspect);
  const words = WORDS[language];
  return (
    <>
      <header className="demo-intro">
        <h1>{words.title}</h1>
        <p>{words.lead}</p>
        <label className="demo-inspect">
          <input
            type="checkbox"
            id="inspect-toggle"
            checked={inspect}
            onChange={(event) => {
              setInspect(event.target.checked);
            }}
          />{' '}
          {words.inspect}
        </label>
        <p className="demo-hint">{words.inspectHint}</p>
      </header>
      {children(inspect)}
    </>
  );
}

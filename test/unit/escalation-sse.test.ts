import { describe, expect, it } from 'vitest';
import { SseDecoder } from '../../src/escalation/sse';

/** A stream with every construct the decoder must handle, as bytes. */
const STREAM = [
  '\uFEFF: a comment before anything\n',
  'data: {"choices":[{"delta":{"content":"您好，"}}]}\n\n',
  ': keep-alive\n\n',
  'event: message\nid: 7\nretry: 1000\ndata: {"choices":[{"delta":{"content":"我是客服🙂"}}]}\r\n\r\n',
  'data:no-space\r\rdata: first line\ndata: second line\n\n',
  'data\n\n',
  'data: [DONE]\n\n',
].join('');
const EXPECTED = [
  '{"choices":[{"delta":{"content":"您好，"}}]}',
  '{"choices":[{"delta":{"content":"我是客服🙂"}}]}',
  'no-space',
  'first line\nsecond line',
  '',
  '[DONE]',
];
const BYTES = new TextEncoder().encode(STREAM);

function decodeInPieces(bytes: Uint8Array, cuts: number[]): string[] {
  const decoder = new SseDecoder();
  const events: string[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...decoder.push(bytes.subarray(start, cut)));
    start = cut;
  }
  events.push(...decoder.end());
  return events;
}

describe('SseDecoder', () => {
  it('decodes a whole stream into the data of each event', () => {
    expect(decodeInPieces(BYTES, [])).toEqual(EXPECTED);
  });

  it('gives the same events whichever byte the stream is cut at (inside UTF-8, inside \\r\\n)', () => {
    // The stream has 3- and 4-byte characters and CRLF pairs, so some cuts land inside them.
    for (let cut = 1; cut < BYTES.length; cut += 1) {
      expect(decodeInPieces(BYTES, [cut]), `cut at byte ${cut}`).toEqual(EXPECTED);
    }
  });

  it('gives the same events when fed one byte at a time', () => {
    const cuts = Array.from({ length: BYTES.length - 1 }, (_, index) => index + 1);
    expect(decodeInPieces(BYTES, cuts)).toEqual(EXPECTED);
  });

  it('returns events as soon as their blank line arrives, not before', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: {"a"')).toEqual([]);
    expect(decoder.push(':1}\n')).toEqual([]);
    expect(decoder.push('\ndata: 2\n')).toEqual(['{"a":1}']);
    expect(decoder.push('\n')).toEqual(['2']);
  });

  it('keeps an event the server left without its closing blank line at the end', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: {"x":1}\n\ndata: {"y":2}')).toEqual(['{"x":1}']);
    expect(decoder.end()).toEqual(['{"y":2}']);
  });

  it('does not turn a \\r at the end of one chunk and \\n at the start of the next into two line ends', () => {
    const decoder = new SseDecoder();
    expect(decoder.push('data: a\r')).toEqual([]);
    // Were the \n a second line end, the blank line would end the event here.
    expect(decoder.push('\ndata: b\r')).toEqual([]);
    expect(decoder.push('\n\r\n')).toEqual(['a\nb']);
  });
});

/**
 * Incremental Server-Sent Events decoding, as the HTML standard's event-stream parser does it,
 * reduced to what chat-completions streams need: the `data` of each event. Network reads arrive
 * cut at arbitrary byte offsets (inside a line, inside a `\r\n`, inside a UTF-8 character), so
 * the decoder keeps the unfinished tail between calls.
 */
export class SseDecoder {
  // NOTE: `stream: true` makes TextDecoder hold back a UTF-8 sequence cut at the end of a chunk
  // until the next chunk completes it, instead of emitting U+FFFD for each half.
  readonly #text = new TextDecoder('utf-8');
  /** Decoded text after the last complete line. */
  #buffer = '';
  /** The previous chunk ended with `\r`: a `\n` opening the next one belongs to that line end. */
  #pendingCarriageReturn = false;
  /** `data` lines of the event being read, joined with `\n` when it is dispatched. */
  #dataLines: string[] = [];

  /**
   * Feeds the next bytes (or already decoded text) of the stream and returns the `data` of every
   * event completed by them, in order. Comments (`: keep-alive`) and other fields are skipped.
   *
   * @example
   * const decoder = new SseDecoder();
   * decoder.push('data: {"a"'); // []
   * decoder.push(':1}\n\n'); // ['{"a":1}']
   */
  push(chunk: Uint8Array | string): string[] {
    let text = typeof chunk === 'string' ? chunk : this.#text.decode(chunk, { stream: true });
    if (text === '') return [];
    if (this.#pendingCarriageReturn && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCarriageReturn = false;
    this.#buffer += text;
    const events: string[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (!match) break;
      // A lone `\r` at the very end may be the first half of `\r\n`: treat it as a line end now
      // and drop a `\n` that opens the next chunk.
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) {
        this.#pendingCarriageReturn = true;
      }
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const data = this.#line(line);
      if (data !== null) events.push(data);
    }
    return events;
  }

  /**
   * Ends the stream: returns the `data` of an event the server did not terminate with a blank
   * line (the standard discards it; servers that close right after their last `data:` line exist,
   * and keeping it loses nothing).
   */
  end(): string[] {
    const tail = this.#buffer + this.#text.decode();
    this.#buffer = '';
    const events: string[] = [];
    if (tail !== '') {
      const data = this.#line(tail);
      if (data !== null) events.push(data);
    }
    const last = this.#line('');
    if (last !== null) events.push(last);
    return events;
  }

  /** Processes one line; returns the event's data when the line is the blank line ending it. */
  #line(line: string): string | null {
    if (line === '') {
      if (this.#dataLines.length === 0) return null;
      const data = this.#dataLines.join('\n');
      this.#dataLines = [];
      return data;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return null;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.#dataLines.push(value);
    return null;
  }
}

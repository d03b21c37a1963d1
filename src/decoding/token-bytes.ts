import type { PreTrainedTokenizer } from '@huggingface/transformers';

/**
 * Each token's exact bytes, for decoding under a character grammar. Qwen3's tokenizer is a
 * byte-level BPE: a vocabulary entry spells UTF-8 *bytes*, each byte written as one printable
 * character (GPT-2's `bytes_to_unicode` table, which transformers.js's ByteLevel decoder
 * inverts). A token can hold part of a multi-byte character — common for Chinese — so text per
 * token is not enough; bytes are. Added tokens (`<tool_call>`, `<|im_end|>`, …) are atomic:
 * they carry their content, never bytes, so no ordinary text can spell them.
 */
export interface TokenTable {
  /** One more than the largest token id. */
  readonly size: number;
  /** The token's bytes, or `undefined` for an added token or an id without a token. */
  bytes(id: number): Uint8Array | undefined;
  /** An added token's content (e.g. `</tool_call>`), or `undefined`. */
  special(id: number): string | undefined;
  /** The id of an added token by content. */
  specialId(content: string): number | undefined;
  /** Readable text of a token (bytes decoded with U+FFFD for a partial character). */
  text(id: number): string;
}

/** GPT-2's byte ↔ printable-character table, as in transformers.js's ByteLevel pre-tokenizer. */
function byteLevelDecoder(): Map<string, number> {
  const bytes: number[] = [];
  for (let byte = 33; byte <= 126; byte++) bytes.push(byte);
  for (let byte = 161; byte <= 172; byte++) bytes.push(byte);
  for (let byte = 174; byte <= 255; byte++) bytes.push(byte);
  const chars = bytes.map((byte) => String.fromCharCode(byte));
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    if (!bytes.includes(byte)) {
      bytes.push(byte);
      chars.push(String.fromCharCode(256 + shifted++));
    }
  }
  return new Map(chars.map((char, index) => [char, bytes[index] as number]));
}

class ByteLevelTokenTable implements TokenTable {
  readonly size: number;
  private readonly offsets: Int32Array;
  private readonly data: Uint8Array;
  private readonly specials = new Map<number, string>();
  private readonly specialIds = new Map<string, number>();
  private readonly textDecoder = new TextDecoder();

  constructor(vocabulary: Map<string, number>, added: Map<number, { content: string }>) {
    const decoder = byteLevelDecoder();
    let size = 0;
    for (const id of vocabulary.values()) size = Math.max(size, id + 1);
    for (const id of added.keys()) size = Math.max(size, id + 1);
    this.size = size;
    for (const [id, token] of added) {
      this.specials.set(id, token.content);
      this.specialIds.set(token.content, id);
    }
    const spelled: (string | undefined)[] = new Array<string | undefined>(size);
    let total = 0;
    for (const [token, id] of vocabulary) {
      if (this.specials.has(id)) continue;
      spelled[id] = token;
      total += token.length;
    }
    this.offsets = new Int32Array(size + 1);
    this.data = new Uint8Array(total);
    let offset = 0;
    for (let id = 0; id < size; id++) {
      this.offsets[id] = offset;
      const token = spelled[id];
      if (token === undefined) continue;
      for (let index = 0; index < token.length; index++) {
        const byte = decoder.get(token.charAt(index));
        if (byte === undefined) {
          throw new Error(`token ${id} ${JSON.stringify(token)} is not byte-level BPE`);
        }
        this.data[offset++] = byte;
      }
    }
    this.offsets[size] = offset;
  }

  bytes(id: number): Uint8Array | undefined {
    if (!(id >= 0 && id < this.size) || this.specials.has(id)) return undefined;
    const start = this.offsets[id] as number;
    const end = this.offsets[id + 1] as number;
    return end > start ? this.data.subarray(start, end) : undefined;
  }

  special(id: number): string | undefined {
    return this.specials.get(id);
  }

  specialId(content: string): number | undefined {
    return this.specialIds.get(content);
  }

  text(id: number): string {
    const special = this.specials.get(id);
    if (special !== undefined) return special;
    const bytes = this.bytes(id);
    return bytes ? this.textDecoder.decode(bytes) : '';
  }
}

const tables = new WeakMap<PreTrainedTokenizer, TokenTable>();

/**
 * The token table of a transformers.js byte-level BPE tokenizer (Qwen3), built on first use and
 * kept per tokenizer (about 150k entries in one byte array; see the decoder test for the time).
 */
export function tokenTable(tokenizer: PreTrainedTokenizer): TokenTable {
  let table = tables.get(tokenizer);
  if (!table) {
    // NOTE: `_tokenizer` is the @huggingface/tokenizers instance transformers.js 4 declares in
    // its types; it is the only place that says which tokens are added (atomic) tokens.
    const core = tokenizer._tokenizer;
    table = new ByteLevelTokenTable(core.get_vocab(true), core.get_added_tokens_decoder());
    tables.set(tokenizer, table);
  }
  return table;
}

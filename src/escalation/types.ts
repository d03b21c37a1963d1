/**
 * What escalation exchanges with the host page and the handler: the turn handed over, the two
 * kinds of handler a host configures, and what comes back. Declarations only, shared by the
 * dispatcher (src/escalation/handler.ts) and the chat-completions client.
 */

/** Why a turn is escalated; the widget shows it to the user. */
export type EscalationReason = 'out_of_scope' | 'low_confidence' | 'intent';

/** One earlier turn of the conversation, as chat-completions messages carry it. */
export interface EscalationHistoryMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** The turn handed to the escalation handler. */
export interface EscalationRequest {
  reason: EscalationReason;
  /** The user's message for this turn. */
  message: string;
  /** The intent the classifier chose (for `intent` and `low_confidence`). */
  intentId?: string;
  /** The classifier's confidence in `intentId`, 0–1. */
  confidence?: number;
  /** The widget's language, so a handler can answer in it. */
  language: 'zh' | 'en';
  /** Earlier turns, oldest first, without the current `message`. */
  history: EscalationHistoryMessage[];
}

/** Where escalated turns go when the host page names an OpenAI-compatible endpoint. */
export interface ChatCompletionsEscalationConfig {
  kind: 'chat-completions';
  /**
   * The full endpoint URL, e.g. `https://api.openai.com/v1/chat/completions` (nothing is appended).
   * The conversation goes to this address only: a redirect answer is refused
   * (`escalation-network`), never followed. Set it in the host page's code, never from the page's
   * URL or other input a link can supply, or a link could send the conversation anywhere.
   */
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer <apiKey>` when given; never logged, stored or put in an error. */
  apiKey?: string;
  /** Sent as the first message (role `system`) when given. */
  systemPrompt?: string;
  /**
   * Milliseconds the whole call may take, from sending the request to the last byte of the reply;
   * default 60000 (`DEFAULT_ESCALATION_TIMEOUT_MS`). Past it the request is aborted with
   * `escalation-timeout`, whatever the server is still sending (a server dripping bytes cannot
   * extend it).
   */
  timeoutMs?: number;
  /**
   * Most UTF-8 bytes of reply text kept; default 16384 (`DEFAULT_MAX_REPLY_BYTES`). A longer reply
   * is shown up to this size, then the stream is aborted and the call rejects with
   * `escalation-bad-stream` (the widget keeps the text that fit and says the reply was too long).
   * The response body as a whole may be at most `BODY_BYTES_PER_REPLY_BYTE` times this (stream
   * framing, keep-alives).
   */
  maxReplyBytes?: number;
  /**
   * Most UTF-8 bytes of conversation sent: this message plus the earlier turns (the system prompt
   * is the host's own and not counted); default 32768 (`DEFAULT_MAX_HISTORY_BYTES`). The oldest
   * turns are left out first; this message is always sent, and a message longer than this on its
   * own is not sent at all (`escalation-unavailable`).
   */
  maxHistoryBytes?: number;
  /** Extra request headers (e.g. an organisation id); `Authorization` from `apiKey` wins. */
  headers?: Record<string, string>;
}

/** Where escalated turns go when the host page hands them to a person. */
export interface HandoffEscalationConfig {
  kind: 'handoff';
  /**
   * Called with the turn; resolve with `{ message }` to show that text to the user (e.g. "An
   * agent will reply within 5 minutes"), or with nothing. Throw to report that the handoff
   * failed. `signal` aborts when the user cancels the turn.
   */
  onHandoff: (
    request: EscalationRequest,
    context: { signal: AbortSignal },
    // NOTE: `void` so that a host's `async () => {}` type-checks; undefined alone would reject it.
    // eslint-disable-next-line @typescript-eslint/no-invalid-void-type
  ) => Promise<{ message?: string } | void>;
}

export type EscalationConfig = ChatCompletionsEscalationConfig | HandoffEscalationConfig;

/**
 * Where escalated turns go, as the widget tells the user: an endpoint's host (never its path,
 * query string or key), the shop's own people (a hand-off), or nowhere (no handler configured).
 */
export type EscalationDestination =
  | { kind: 'none' }
  | { kind: 'handoff' }
  | { kind: 'chat-completions'; host: string; model: string };

export interface EscalateOptions {
  signal?: AbortSignal;
  /** Called with the whole reply so far each time more of it arrives (streaming display). */
  onDelta?: (textSoFar: string) => void;
}

export interface EscalationResult {
  kind: EscalationConfig['kind'];
  /** The reply to show, as plain text (render it as text, never as HTML); may be empty for a handoff. */
  text: string;
}

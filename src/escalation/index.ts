/**
 * Escalation layer: hand a turn the on-device model should not answer to a chat-completions
 * endpoint or a person, as the host page configures. Runs on the main thread (the network and
 * the host's callback live there), never in the classifier worker.
 */
export {
  describeEscalationConfig,
  escalate,
  escalationConfigProblems,
  escalationReason,
} from './handler';
export type {
  ChatCompletionsEscalationConfig,
  EscalateOptions,
  EscalationConfig,
  EscalationDestination,
  EscalationHistoryMessage,
  EscalationReason,
  EscalationRequest,
  EscalationResult,
  HandoffEscalationConfig,
} from './types';
export {
  BODY_BYTES_PER_REPLY_BYTE,
  chatCompletionMessages,
  DEFAULT_ESCALATION_TIMEOUT_MS,
  DEFAULT_MAX_HISTORY_BYTES,
  DEFAULT_MAX_REPLY_BYTES,
  streamChatCompletion,
  type ChatMessage,
} from './chat-completions';
export { SseDecoder } from './sse';

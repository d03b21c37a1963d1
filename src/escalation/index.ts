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
  EscalationHistoryMessage,
  EscalationReason,
  EscalationRequest,
  EscalationResult,
  HandoffEscalationConfig,
} from './types';
export {
  chatCompletionMessages,
  DEFAULT_ESCALATION_TIMEOUT_MS,
  streamChatCompletion,
  type ChatMessage,
} from './chat-completions';
export { SseDecoder } from './sse';

/**
 * The React component export (`dist/embed/react/fenliu-react.js`); React and ReactDOM are peer
 * dependencies, supplied by the host.
 */
export { FenliuChat, type FenliuChatProps } from './FenliuChat';
export type { EmbedOptions } from './EmbeddedChat';
export type { EscalationEvent } from '../ui/ChatWidget';
export type { ChatTurn, ToolCallState, EscalationState, RouteReply } from '../router/conversation';
export type {
  RouteHandler,
  AgentHandler,
  HumanHandler,
  HostHandler,
  RouterEvent,
  RouterEventMap,
  TakenRoute,
  ReplySource,
} from '../router/types';
export type { ToolImplementation } from '../tools/registry';
export type { EscalationConfig, EscalationRequest } from '../escalation/types';
export type { Catalog, ToolArguments, ToolCall, ToolSpec } from '../catalog/types';
export type { ClassifierStatus } from '../engine/lifecycle';
export type { Classification } from '../engine/classification';

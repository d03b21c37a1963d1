/**
 * Tools: the registry joining catalog declarations with code, the executor that runs a call on
 * the main thread near the user's consent, and the demo shop's six tools on IndexedDB.
 */
export {
  ToolRegistry,
  type RegisteredTool,
  type ToolContext,
  type ToolImplementation,
  type ToolOverride,
  type ToolRegistryOptions,
} from './registry';
export {
  MAX_RESULT_BYTES,
  runToolCall,
  type JsonObject,
  type JsonValue,
  type RunToolOptions,
  type ToolRun,
} from './executor';
export { createDemoTools, type DemoToolOptions } from './demo/tools';
export {
  demoShopStore,
  IndexedDbShopStore,
  MemoryShopStore,
  resetDemoStore,
  type SequenceKind,
  type ShopStore,
} from './demo/store';
export {
  DEMO_ORDERS,
  DEMO_PLANS,
  DEMO_SEED_VERSION,
  DEMO_TODAY,
  type DemoInvoice,
  type DemoOrder,
  type DemoPlan,
  type DemoRefund,
  type DemoShipment,
  type PlanName,
} from './demo/orders';
export { templateReply, type ReplyLanguage } from './demo/replies';
export * from './demo/types';

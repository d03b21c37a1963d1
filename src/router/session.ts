import { routeHandlerNames } from '../catalog/routes';
import { catalogModelDifferences, describeMismatch } from '../catalog/model-match';
import type { Catalog, IntentRoute, ToolSpec } from '../catalog/types';
import type { Classification } from '../engine/classification';
import type { Classifier, ClassifierState } from '../engine/classifier-api';
import { describeEscalationConfig, escalate } from '../escalation/handler';
import { streamChatCompletion } from '../escalation/chat-completions';
import type { EscalationReason } from '../escalation/types';
import {
  AbortError,
  CatalogMismatchError,
  DataValidationError,
  errorMessage,
  serializeError,
  ToolError,
  type SerializedError,
} from '../shared/errors';
import type { Language } from '../shared/language';
import { runToolCall } from '../tools/executor';
import { ToolRegistry } from '../tools/registry';
import {
  isAnswered,
  mergeTurns,
  stampChanges,
  turnVersion,
  type ChatTurn,
  type EscalationState,
  type RouteReply,
  type ToolCallState,
} from './conversation';
import { replyText } from './messages';
import {
  loadConversation,
  openConversationChannel,
  saveConversation,
  type ConversationChannel,
  type ConversationSettings,
  type StoredConversation,
} from './persistence';
import { decideRoute } from './routing';
import {
  escalationHistory,
  fillChoice,
  fillFromFollowUp,
  nextStatus,
  startToolCall,
  turnAwaitingInput,
} from './tool-flow';
import type {
  RouteHandler,
  RouterEvent,
  RouterEventMap,
  RouterEventType,
  RouterOptions,
  RouterSnapshot,
} from './types';

/** The one configuration problem that stops routing: a catalog that does not match the model. */
export const BLOCKING_PROBLEM = 'catalog-model-mismatch';

/** What `configure` may replace; `undefined` removes the host's value. */
type Configuration = {
  [Key in 'catalog' | 'tools' | 'handlers' | 'escalation' | 'toolReply']?:
    RouterOptions[Key] | undefined;
};

/** A sent message waiting for the model, in sending order. */
interface QueuedMessage {
  id: string;
  text: string;
  /** A quick-reply choice: this value for this argument, whatever the shown text says. */
  choice?: { key: string; value: string | number | boolean };
}

let turnCounter = 0;
/** Tells this page's turn ids from another tab's: tabs sharing a saved conversation merge by id. */
const PAGE_TAG = Math.random().toString(36).slice(2, 8);
function newTurnId(): string {
  turnCounter += 1;
  return `${Date.now().toString(36)}-${PAGE_TAG}-${turnCounter}`;
}

/**
 * Every handler the catalog's routes name that the host did not supply, or supplied with another
 * kind: one problem per intent, naming it.
 */
export function missingHandlerProblems(
  catalog: Catalog | null,
  handlers: Readonly<Record<string, RouteHandler>>,
): string[] {
  if (!catalog) return [];
  return routeHandlerNames(catalog).flatMap(({ intentId, kind, handler }) => {
    const supplied = Object.hasOwn(handlers, handler) ? handlers[handler] : undefined;
    if (!supplied) {
      return [
        `intent "${intentId}" routes to ${kind} handler "${handler}", which the host did not ` +
          `supply (handlers.${handler})`,
      ];
    }
    return supplied.kind === kind
      ? []
      : [
          `intent "${intentId}" routes to ${kind} handler "${handler}", but handlers.${handler} ` +
            `is a ${supplied.kind} handler`,
        ];
  });
}

/**
 * One conversation, routed: it owns the queue (messages typed while the model is busy or loading
 * are answered in sending order), classification, the intent's route (a template reply, a tool
 * with slot filling and confirmation, an agent, people, the host), escalation, cancellation and
 * the saved history. It has no UI: a widget renders `snapshot` and calls the methods; a headless
 * host calls `route(text)` and listens to the events (`RouterEventMap`).
 *
 * @example
 * const session = new RouterSession({ classifier, catalog, tools, handlers });
 * session.on('route', ({ kind, intentId }) => console.log(intentId, '→', kind));
 * const turn = await session.route('我的订单2024113012345到哪了');
 */
export class RouterSession {
  private options: RouterOptions;
  private readonly classifier: Classifier;
  private catalog: Catalog | null = null;
  private handlers: Readonly<Record<string, RouteHandler>> = {};
  private registry: ToolRegistry | null = null;
  /** Why the tool registry could not be built (a declared tool without an implementation). */
  private registryProblem: string | null = null;
  private state: RouterSnapshot;
  private readonly queue: QueuedMessage[] = [];
  /** The synchronous twin of `pending`: two sends in one task cannot both start. */
  private busy = false;
  private controller: AbortController | null = null;
  private readonly stateListeners = new Set<() => void>();
  private readonly eventListeners = new Map<RouterEventType, Set<(detail: never) => void>>();
  private readonly anyListeners = new Set<(event: RouterEvent) => void>();
  /** `route(text)` callers waiting for their turn's work to end, by turn id. */
  private readonly waiting = new Map<string, ((turn: ChatTurn) => void)[]>();
  private readonly unsubscribeClassifier: () => void;
  private saveScheduled = false;
  // Saving and sharing the conversation (`persistKey`), see src/router/persistence.ts.
  /** The other tabs and widgets with this conversation open (null until hydrated). */
  private channel: ConversationChannel | null = null;
  /** The newest clear known (this session's or another tab's), epoch ms; 0: none. */
  private clearedAt = 0;
  /** The settings as this session last loaded or wrote them: only changed ones are written. */
  private savedSettings: ConversationSettings | null = null;
  /** Turns known to be in the archive, with their version then. */
  private readonly archived = new Map<string, number>();
  private refreshing = false;
  private refreshAgain = false;
  private configured = false;
  private disposed = false;

  constructor(options: RouterOptions) {
    this.options = options;
    this.classifier = options.classifier;
    this.state = {
      turns: [],
      pending: null,
      classifier: this.classifier.state,
      problems: [],
      storageRefused: false,
      hydrated: options.persistKey === undefined,
      language: options.language ?? 'zh',
      modelReplies: options.modelReplies ?? false,
      theme: '',
    };
    this.configure(options);
    this.unsubscribeClassifier = this.classifier.subscribe((classifier) => {
      this.onClassifierState(classifier);
    });
    if (options.persistKey !== undefined) void this.hydrate(options.persistKey);
  }

  /**
   * Replaces the catalog, tools, handlers, escalation or tool-reply templates (a host's props
   * changed) and checks them again; the conversation stays. Problems are reported as `error`
   * events (`scope: 'developer'`); while one that stops routing is set (a route's missing
   * handler, a catalog that does not match the model), messages wait.
   */
  configure(change: Configuration): void {
    const keys = Object.keys(change) as (keyof Configuration)[];
    // NOTE: hosts re-render with the same values; checking (and reporting) again would repeat
    // every developer error.
    if (
      this.configured &&
      keys.every((key) => (change[key] ?? null) === (this.options[key] ?? null))
    ) {
      return;
    }
    this.configured = true;
    this.options = { ...this.options, ...change };
    this.catalog = this.options.catalog ?? null;
    this.handlers = this.options.handlers ?? {};
    const problems: SerializedError[] = [];
    const missing = missingHandlerProblems(this.catalog, this.handlers);
    if (missing.length > 0) {
      problems.push(
        serializeError(
          new DataValidationError(
            'catalog-invalid',
            missing.map((reason) => ({ file: 'routes', line: 1, reason })),
          ),
        ),
      );
    }
    this.registry = null;
    this.registryProblem = null;
    let registryError: SerializedError | null = null;
    try {
      this.registry = new ToolRegistry(this.catalog?.tools ?? [], this.options.tools ?? {});
    } catch (error) {
      // NOTE: not a problem that stops routing: classification and the other routes still work,
      // and a call to such a tool fails on its turn with this reason. Developers hear it at once.
      this.registryProblem = errorMessage(error);
      registryError = serializeError(error);
    }
    this.setState({ problems });
    const mismatch = this.checkCatalogMatchesModel(this.state.classifier);
    // NOTE: reported in a later task, so listeners added right after `new`, or after
    // `await createRouter(…)` (whose continuation runs after this call's microtasks), hear them;
    // with an already loaded classifier the mismatch is found here, in the constructor.
    const reported = [
      ...problems,
      ...(registryError ? [registryError] : []),
      ...(mismatch ? [mismatch] : []),
    ];
    if (reported.length > 0) {
      setTimeout(() => {
        for (const error of reported) this.emit('error', { scope: 'developer', error });
      }, 0);
    }
    this.pump();
  }

  /** The current state; replaced on every change (compare by reference). */
  get snapshot(): RouterSnapshot {
    return this.state;
  }

  /** Calls `listener` after every state change; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  /** Listens to one event type; returns the function that stops it. */
  on<Type extends RouterEventType>(
    type: Type,
    listener: (detail: RouterEventMap[Type]) => void,
  ): () => void {
    let set = this.eventListeners.get(type);
    if (!set) {
      set = new Set();
      this.eventListeners.set(type, set);
    }
    const stored = listener as (detail: never) => void;
    set.add(stored);
    return () => {
      set.delete(stored);
    };
  }

  /** Listens to every event; returns the function that stops it. */
  onEvent(listener: (event: RouterEvent) => void): () => void {
    this.anyListeners.add(listener);
    return () => {
      this.anyListeners.delete(listener);
    };
  }

  /**
   * Sends a message and resolves with its turn once the session is done with it for now:
   * answered, failed, or waiting for the customer (a question for a missing argument, a
   * confirmation). Messages are answered in sending order.
   */
  route(text: string): Promise<ChatTurn> {
    const id = this.send(text);
    if (id === null) return Promise.reject(new Error('An empty message cannot be routed.'));
    return this.whenDone(id);
  }

  /**
   * Queues a message; its turn appears at once and is answered in sending order. Returns the
   * turn id, or null for a message that is empty after trimming.
   */
  send(typed: string): string | null {
    const text = typed.trim();
    if (text === '' || this.disposed) return null;
    const id = newTurnId();
    this.setTurns((turns) => [...turns, { id, text, sentAt: Date.now(), queued: true }]);
    this.queue.push({ id, text });
    this.emit('message', { turnId: id, text, queued: this.busy || !this.isReady() });
    this.pump();
    return id;
  }

  /**
   * The customer picked one of the allowed values for an argument the open question asks for
   * (a quick-reply chip): `value` fills `key` as it is, and `shown` (the value in the customer's
   * words, e.g. "Wrong size" for 尺码不合适) becomes the customer's message. A choice for an
   * argument no open question asks for is sent as a plain message. Returns the turn id.
   */
  choose(key: string, value: string | number | boolean, shown: string): string | null {
    const text = shown.trim();
    if (text === '' || this.disposed) return null;
    const id = newTurnId();
    this.setTurns((turns) => [...turns, { id, text, sentAt: Date.now(), queued: true }]);
    this.queue.push({ id, text, choice: { key, value } });
    this.emit('message', { turnId: id, text, queued: this.busy || !this.isReady() });
    this.pump();
    return id;
  }

  /** Queues a turn that was never answered (interrupted, or lost to a crash) again. */
  resend(turnId: string): void {
    const turn = this.state.turns.find((candidate) => candidate.id === turnId);
    if (!turn) return;
    this.setTurns((turns) =>
      turns.map((candidate) =>
        candidate.id === turnId
          ? { id: turn.id, text: turn.text, sentAt: Date.now(), queued: true }
          : candidate,
      ),
    );
    this.queue.push({ id: turn.id, text: turn.text });
    this.pump();
  }

  /** The customer confirmed the exact arguments on `turnId`'s call: it runs now. */
  confirm(turnId: string): Promise<void> {
    const tool = this.state.turns.find((turn) => turn.id === turnId)?.tool;
    if (!tool || this.busy || tool.status !== 'needs-confirmation') return Promise.resolve();
    this.emit('tool-confirmed', { turnId, tool: tool.name, arguments: tool.arguments });
    return this.exclusive(turnId, (signal) => this.runTool(turnId, tool, true, signal));
  }

  /** The customer declined `turnId`'s call (or its question): it never runs. */
  decline(turnId: string): void {
    const tool = this.state.turns.find((turn) => turn.id === turnId)?.tool;
    if (!tool || (tool.status !== 'needs-confirmation' && tool.status !== 'needs-input')) return;
    this.updateTool(turnId, { status: 'declined' });
    this.emit('tool-declined', { turnId, tool: tool.name, arguments: tool.arguments });
  }

  /** Stops the turn being worked on (classification, tool, streamed reply). */
  cancel(): void {
    this.controller?.abort();
  }

  /** Forgets the conversation (not while a turn is being worked on). */
  clear(): void {
    if (this.busy) return;
    // NOTE: `route()` callers of queued messages get their (unanswered) turn rather than waiting
    // for ever.
    for (const { id } of this.queue) this.settleWaiting(id);
    this.queue.length = 0;
    // NOTE: saved with the conversation, so other tabs forget these turns too (see `absorb`);
    // later than every version here (a turn changed twice in a millisecond is stamped ahead).
    this.clearedAt = this.state.turns.reduce(
      (latest, turn) => Math.max(latest, turnVersion(turn) + 1),
      Date.now(),
    );
    this.setTurns(() => []);
  }

  setLanguage(language: Language): void {
    this.setState({ language });
  }

  setModelReplies(modelReplies: boolean): void {
    this.setState({ modelReplies });
  }

  setTheme(theme: string): void {
    this.setState({ theme });
  }

  /** Loads the model again (after an error or a cancelled download). */
  retry(): void {
    this.classifier.retry();
  }

  /** Stops a model download or initialization in progress. */
  cancelLoad(): void {
    this.classifier.cancelLoad();
  }

  /** Stops listening to the classifier, aborts the turn in progress, frees the classifier. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.queue.length = 0;
    this.controller?.abort();
    this.unsubscribeClassifier();
    this.channel?.close();
    this.stateListeners.clear();
    await this.classifier.dispose();
  }

  // --- state and events ---

  private setState(change: Partial<RouterSnapshot>): void {
    this.state = { ...this.state, ...change };
    for (const listener of this.stateListeners) listener();
    this.scheduleSave();
  }

  /** Every turn change of this session goes here: changed turns get a new version. */
  private setTurns(change: (turns: readonly ChatTurn[]) => ChatTurn[]): void {
    const before = this.state.turns;
    this.setState({ turns: stampChanges(before, change(before), Date.now()) });
  }

  private update(id: string, change: Partial<ChatTurn>): void {
    this.setTurns((turns) => turns.map((turn) => (turn.id === id ? { ...turn, ...change } : turn)));
  }

  private updateTool(id: string, change: Partial<ToolCallState>): void {
    this.setTurns((turns) =>
      turns.map((turn) =>
        turn.id === id && turn.tool ? { ...turn, tool: { ...turn.tool, ...change } } : turn,
      ),
    );
  }

  private updateEscalation(id: string, change: Partial<EscalationState>): void {
    this.setTurns((turns) =>
      turns.map((turn) =>
        turn.id === id && turn.escalation
          ? { ...turn, escalation: { ...turn.escalation, ...change } }
          : turn,
      ),
    );
  }

  private updateReply(id: string, change: Partial<RouteReply>): void {
    this.setTurns((turns) =>
      turns.map((turn) =>
        turn.id === id && turn.reply ? { ...turn, reply: { ...turn.reply, ...change } } : turn,
      ),
    );
  }

  private turn(id: string): ChatTurn | undefined {
    return this.state.turns.find((turn) => turn.id === id);
  }

  private emit<Type extends RouterEventType>(type: Type, detail: RouterEventMap[Type]): void {
    for (const listener of this.eventListeners.get(type) ?? []) {
      (listener as (detail: RouterEventMap[Type]) => void)(detail);
    }
    const event = { type, detail } as RouterEvent;
    for (const listener of this.anyListeners) listener(event);
  }

  private whenDone(id: string): Promise<ChatTurn> {
    return new Promise((resolve) => {
      const list = this.waiting.get(id) ?? [];
      list.push(resolve);
      this.waiting.set(id, list);
    });
  }

  private settleWaiting(id: string): void {
    const list = this.waiting.get(id);
    const turn = this.turn(id);
    if (!list || !turn) return;
    this.waiting.delete(id);
    for (const resolve of list) resolve(turn);
  }

  /**
   * Whether messages may be routed: the model is ready and the catalog matches it. (A route's
   * missing handler stops only that route: its turns fail, the others are answered.)
   */
  private isReady(): boolean {
    return (
      this.state.classifier.status.state === 'ready' &&
      !this.state.problems.some((problem) => problem.code === BLOCKING_PROBLEM)
    );
  }

  private onClassifierState(classifier: ClassifierState): void {
    const changed = classifier.status !== this.state.classifier.status;
    this.setState({ classifier });
    if (!changed) return;
    this.emit('status', classifier.status);
    if (classifier.status.state === 'ready') {
      const mismatch = this.checkCatalogMatchesModel(classifier);
      if (mismatch) this.emit('error', { scope: 'developer', error: mismatch });
    }
    this.pump();
  }

  /**
   * The catalog must name the model's intents, labels and tool bindings (`fenliu.json`): sets or
   * clears the blocking problem, and returns it when there is one (for the caller to report).
   */
  private checkCatalogMatchesModel(classifier: ClassifierState): SerializedError | null {
    const { status } = classifier;
    if (status.state !== 'ready' || !this.catalog) return null;
    const { info } = status;
    const differences = catalogModelDifferences(this.catalog, info);
    const others = this.state.problems.filter(
      (problem) => problem.code !== 'catalog-model-mismatch',
    );
    if (differences.length === 0) {
      if (others.length !== this.state.problems.length) this.setState({ problems: others });
      return null;
    }
    const error = serializeError(
      new CatalogMismatchError(differences, describeMismatch(differences, info.modelId)),
    );
    this.setState({ problems: [...others, error] });
    return error;
  }

  // --- saving, and sharing with other tabs (persistKey; src/router/persistence.ts) ---

  private async hydrate(persistKey: string): Promise<void> {
    const saved = await loadConversation(persistKey);
    if (this.disposed) return;
    this.channel = openConversationChannel(persistKey, () => {
      this.refresh(persistKey);
    });
    this.clearedAt = saved?.clearedAt ?? 0;
    this.savedSettings = saved?.settings ?? null;
    // NOTE: a state change: the first save merges in whatever another tab wrote since the load.
    this.setState({
      // NOTE: messages sent before the saved state arrived are newer: they stay after it.
      turns: mergeTurns(saved?.turns ?? [], this.state.turns),
      ...(saved && this.options.language === undefined && { language: saved.settings.language }),
      ...(saved && { theme: saved.settings.theme }),
      hydrated: true,
    });
  }

  private scheduleSave(): void {
    const key = this.options.persistKey;
    if (key === undefined || !this.state.hydrated || this.saveScheduled || this.disposed) return;
    this.saveScheduled = true;
    // NOTE: one write per task, however many state changes it made.
    setTimeout(() => {
      this.saveScheduled = false;
      void this.save(key);
    }, 0);
  }

  /** Merges this session's conversation into the stored one, then takes in what others added. */
  private async save(key: string): Promise<void> {
    const { turns, language, theme } = this.state;
    const settings = { language, theme };
    const saved = this.savedSettings;
    const settingsChanged = saved?.language !== language || saved.theme !== theme;
    const outcome = await saveConversation(key, {
      turns,
      settings,
      settingsChanged,
      clearedAt: this.clearedAt,
      archived: this.archived,
    });
    if (this.disposed) return;
    if (outcome.stored) {
      if (settingsChanged) this.savedSettings = settings;
      for (const turn of outcome.archived) this.archived.set(turn.id, turnVersion(turn));
      this.channel?.announce();
      this.absorb(outcome.stored);
    }
    if ((outcome.error !== null) !== this.state.storageRefused) {
      this.state = { ...this.state, storageRefused: outcome.error !== null };
      for (const listener of this.stateListeners) listener();
    }
  }

  /** Another tab or widget saved the conversation: reads it (one read at a time) and takes it in. */
  private refresh(key: string): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    void loadConversation(key).then((stored) => {
      this.refreshing = false;
      if (stored) this.absorb(stored);
      if (this.refreshAgain && !this.disposed) {
        this.refreshAgain = false;
        this.refresh(key);
      }
    });
  }

  /**
   * Takes the stored conversation into the snapshot (`mergeTurns`), leaving the turns this session
   * is working on as they are: the one being answered, and its queue, except a queued turn that
   * was answered in another tab meanwhile (taken from there, not answered twice) or cleared there
   * (a clear forgets every turn that did not change since; the one being answered stays).
   * It only takes in what is stored, so it saves nothing.
   */
  private absorb(stored: StoredConversation): void {
    if (this.disposed) return;
    this.clearedAt = Math.max(this.clearedAt, stored.clearedAt);
    const local = new Map(this.state.turns.map((turn) => [turn.id, turn]));
    const theirs = new Map(stored.turns.map((turn) => [turn.id, turn]));
    const cleared: string[] = [];
    const answeredElsewhere: string[] = [];
    for (const { id } of this.queue) {
      const mine = local.get(id);
      const other = theirs.get(id);
      if (mine && turnVersion(mine) < this.clearedAt) cleared.push(id);
      else if (mine && other && isAnswered(other) && turnVersion(other) > turnVersion(mine)) {
        answeredElsewhere.push(id);
      }
    }
    // NOTE: `route()` callers of a cleared message get their (unanswered) turn, as on `clear()`.
    for (const id of cleared) this.settleWaiting(id);
    const leaving = new Set([...cleared, ...answeredElsewhere]);
    const left = this.queue.filter(({ id }) => !leaving.has(id));
    this.queue.splice(0, this.queue.length, ...left);
    const working = new Set(left.map(({ id }) => id));
    if (this.state.pending !== null) working.add(this.state.pending);
    const kept = this.state.turns.filter(
      (turn) => working.has(turn.id) || turnVersion(turn) >= this.clearedAt,
    );
    const turns = mergeTurns(stored.turns, kept).map((turn) =>
      working.has(turn.id) ? (local.get(turn.id) ?? turn) : turn,
    );
    const unchanged =
      turns.length === this.state.turns.length &&
      turns.every((turn, index) => turn === this.state.turns[index]);
    if (!unchanged) {
      this.state = { ...this.state, turns };
      for (const listener of this.stateListeners) listener();
    }
    for (const id of answeredElsewhere) this.settleWaiting(id);
  }

  // --- the flow of a turn ---

  /** Starts the oldest queued message when the model is ready and nothing else runs. */
  private pump(): void {
    if (this.busy || !this.isReady() || this.disposed) return;
    const next = this.queue.shift();
    if (next) void this.exclusive(next.id, (signal) => this.answer(next, signal));
  }

  /** Runs `work` as the one action in progress (`cancel` aborts it), then the next message. */
  private async exclusive(id: string, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    this.busy = true;
    const controller = new AbortController();
    this.controller = controller;
    this.setState({ pending: id });
    try {
      await work(controller.signal);
    } catch (error) {
      // NOTE: every step reports its own failures on the turn; this is the last resort, so a bug
      // in one turn never stops the queue.
      this.update(id, { error: { code: 'internal', message: errorMessage(error) } });
    } finally {
      this.controller = null;
      this.busy = false;
      this.setState({ pending: null });
      this.settleWaiting(id);
      this.pump();
    }
  }

  private async answer({ id, text, choice }: QueuedMessage, signal: AbortSignal): Promise<void> {
    // A message that answers the open question for missing arguments continues that call. Only
    // a message sent after the question was on screen can answer it.
    const sentAt = this.turn(id)?.sentAt ?? Date.now();
    const waiting = turnAwaitingInput(
      this.state.turns.filter((turn) => turn.id !== id),
      sentAt,
    );
    const waitingSpec = waiting?.tool && this.specOf(waiting.tool.name);
    const filled =
      waiting?.tool && waitingSpec
        ? choice
          ? fillChoice(waiting.tool, waitingSpec, choice)
          : fillFromFollowUp(waiting.tool, waitingSpec, text)
        : null;
    if (waiting?.tool && filled) {
      const tool: ToolCallState = {
        name: waiting.tool.name,
        arguments: filled.arguments,
        missing: filled.missing,
        status: nextStatus(waitingSpec, filled.missing),
      };
      if (tool.status === 'needs-input') tool.askedAt = Date.now();
      this.setTurns((turns) =>
        turns.map((turn) => {
          if (turn.id === waiting.id && turn.tool) {
            return { ...turn, tool: { ...turn.tool, status: 'continued' as const } };
          }
          return turn.id === id
            ? {
                ...turn,
                queued: false,
                answers: {
                  turnId: waiting.id,
                  keys: filled.filled,
                  ...(choice && { chosen: true }),
                },
                tool,
              }
            : turn;
        }),
      );
      this.emit('tool-proposed', { turnId: id, ...this.proposal(tool), continues: waiting.id });
      if (tool.status === 'running') await this.runTool(id, tool, false, signal);
      return;
    }
    if (waiting?.tool) {
      this.updateTool(waiting.id, { status: 'declined' });
      this.emit('tool-declined', {
        turnId: waiting.id,
        tool: waiting.tool.name,
        arguments: waiting.tool.arguments,
      });
    }
    this.update(id, { queued: false });
    let result: Classification;
    try {
      result = await this.classifier.classify(text, { signal });
    } catch (error) {
      if (error instanceof AbortError) {
        this.update(id, { cancelled: true });
      } else {
        const serialized = serializeError(error);
        this.update(id, { error: { code: serialized.code, message: serialized.message } });
        this.emit('error', { turnId: id, scope: 'turn', error: serialized });
      }
      return;
    }
    this.update(id, { result });
    this.emit('classified', {
      turnId: id,
      text,
      intentId: result.intentId,
      label: result.label,
      confidence: result.confidence,
      margin: result.margin,
      route: result.route,
      reason: result.reason,
      scores: result.scores.map(({ intentId, label, probability }) => ({
        intentId,
        label,
        probability,
      })),
      latencyMs: result.latencyMs,
    });
    const decision = decideRoute(result, this.catalog);
    this.emit('route', { turnId: id, ...decision.taken });
    if (decision.route === null) {
      this.emit('escalated', {
        turnId: id,
        text,
        reason: decision.reason,
        intentId: result.intentId,
        confidence: result.confidence,
        classification: result,
      });
      await this.handOver(id, text, decision.reason, result, signal);
      return;
    }
    await this.follow(id, text, result, decision.route, signal);
  }

  private async follow(
    id: string,
    text: string,
    result: Classification,
    route: IntentRoute,
    signal: AbortSignal,
  ): Promise<void> {
    const { language } = this.state;
    switch (route.kind) {
      case 'tool': {
        const proposed =
          result.toolCall ??
          (await this.classifier.decodeToolCall(text, result.intentId, { signal }));
        if (!proposed) return;
        const tool = startToolCall(proposed, this.specOf(proposed.name));
        if (tool.status === 'needs-input') tool.askedAt = Date.now();
        this.update(id, { tool });
        this.emit('tool-proposed', { turnId: id, ...this.proposal(tool) });
        if (tool.status === 'running') await this.runTool(id, tool, false, signal);
        return;
      }
      case 'reply': {
        const suggestions = route.suggestions?.map((suggestion) => suggestion[language]);
        const reply: RouteReply = {
          source: 'template',
          status: 'done',
          text: route.text[language],
          ...(suggestions && { suggestions }),
        };
        this.update(id, { reply });
        this.emit('reply', {
          turnId: id,
          source: 'template',
          text: reply.text,
          ...(suggestions && { suggestions }),
        });
        return;
      }
      case 'agent':
        await this.askAgent(id, text, result, route, signal);
        return;
      case 'human':
        await this.handToPeople(id, text, result, route, signal);
        return;
      case 'host':
        if (route.handler !== undefined) await this.askHost(id, text, result, route, signal);
        return;
    }
  }

  private async askAgent(
    id: string,
    text: string,
    result: Classification,
    route: Extract<IntentRoute, { kind: 'agent' }>,
    signal: AbortSignal,
  ): Promise<void> {
    const handler = this.handlerOf(route.handler, 'agent');
    const { language } = this.state;
    const knowledge = route.knowledge ?? '';
    const system = [
      handler && 'systemPrompt' in handler ? handler.systemPrompt : undefined,
      route.system,
      knowledge === '' ? undefined : `${language === 'zh' ? '知识' : 'Knowledge'}:\n${knowledge}`,
    ]
      .filter((part): part is string => part !== undefined && part !== '')
      .join('\n\n');
    const history = escalationHistory(this.state.turns.filter((turn) => turn.id !== id));
    this.update(id, {
      reply: { source: 'agent', status: 'streaming', text: '', handler: route.handler },
    });
    const onDelta = (soFar: string) => {
      this.updateReply(id, { text: soFar });
      this.emit('reply-delta', { turnId: id, source: 'agent', text: soFar });
    };
    await this.settleReply(id, 'agent', signal, async () => {
      if (!handler) throw this.missingHandler(result.intentId, route.handler);
      if ('respond' in handler) {
        const request = {
          intentId: result.intentId,
          label: result.label,
          message: text,
          language,
          history,
          system,
          knowledge,
        };
        const answer: unknown = await handler.respond(request, { signal, onDelta });
        // The host's function is plain JavaScript: check what it resolved with.
        return typeof answer === 'string' ? answer : '';
      }
      return streamChatCompletion(
        { ...handler, kind: 'chat-completions', systemPrompt: system },
        { history, message: text },
        { signal, onDelta },
      );
    });
  }

  private async handToPeople(
    id: string,
    text: string,
    result: Classification,
    route: Extract<IntentRoute, { kind: 'human' }>,
    signal: AbortSignal,
  ): Promise<void> {
    const handler = this.handlerOf(route.handler, 'human');
    const { language } = this.state;
    this.update(id, {
      reply: {
        source: 'human',
        status: 'streaming',
        text: '',
        handler: route.handler,
        queue: route.queue,
      },
    });
    await this.settleReply(id, 'human', signal, async () => {
      if (!handler) throw this.missingHandler(result.intentId, route.handler);
      const history = escalationHistory(this.state.turns.filter((turn) => turn.id !== id));
      const { text: message } = await escalate(
        {
          kind: 'handoff',
          onHandoff: (request, context) =>
            handler.onHandoff({ ...request, queue: route.queue }, context),
        },
        {
          reason: 'intent',
          message: text,
          intentId: result.intentId,
          confidence: result.confidence,
          language,
          history,
        },
        { signal },
      );
      return message === '' ? replyText(language).handedOff : message;
    });
  }

  private async askHost(
    id: string,
    text: string,
    result: Classification,
    route: Extract<IntentRoute, { kind: 'host' }>,
    signal: AbortSignal,
  ): Promise<void> {
    const name = route.handler ?? '';
    const handler = this.handlerOf(name, 'host');
    const { language } = this.state;
    this.update(id, {
      reply: {
        source: 'host',
        status: 'streaming',
        text: '',
        ...(route.handler && { handler: route.handler }),
      },
    });
    await this.settleReply(id, 'host', signal, async () => {
      if (!handler) throw this.missingHandler(result.intentId, name);
      const answer: unknown = await handler.onRoute(
        {
          intentId: result.intentId,
          label: result.label,
          message: text,
          language,
          classification: result,
        },
        { signal },
      );
      const reply = (answer as { reply?: unknown } | undefined | null)?.reply;
      return typeof reply === 'string' ? reply : '';
    });
  }

  /**
   * Runs a handler that produces the turn's reply and records how it ended: the text (an empty
   * answer leaves no reply), a cancellation, or the error — the customer sees the failure on the
   * turn; nothing is made up.
   */
  private async settleReply(
    id: string,
    source: RouteReply['source'],
    signal: AbortSignal,
    produce: () => Promise<string>,
  ): Promise<void> {
    try {
      const text = await produce();
      if (signal.aborted) throw new AbortError();
      if (text === '') {
        this.setTurns((turns) =>
          turns.map((turn) => {
            if (turn.id !== id) return turn;
            const withoutReply = { ...turn };
            delete withoutReply.reply;
            return withoutReply;
          }),
        );
        return;
      }
      this.updateReply(id, { status: 'done', text });
      this.emit('reply', { turnId: id, source, text });
    } catch (error) {
      const serialized = serializeError(error instanceof AbortError ? new AbortError() : error);
      this.updateReply(id, {
        status: 'error',
        error: { code: serialized.code, message: serialized.message },
      });
      if (!(error instanceof AbortError)) {
        this.emit('error', { turnId: id, scope: 'turn', error: serialized });
      }
    }
  }

  /** The host's handler of that name and kind, or undefined (reported at load, failed per turn). */
  private handlerOf<Kind extends RouteHandler['kind']>(
    name: string,
    kind: Kind,
  ): Extract<RouteHandler, { kind: Kind }> | undefined {
    const handler = Object.hasOwn(this.handlers, name) ? this.handlers[name] : undefined;
    return handler?.kind === kind ? (handler as Extract<RouteHandler, { kind: Kind }>) : undefined;
  }

  private missingHandler(intentId: string, handler: string): DataValidationError {
    return new DataValidationError('catalog-invalid', [
      {
        file: 'routes',
        line: 1,
        reason: `intent "${intentId}" routes to handler "${handler}", which the host did not supply`,
      },
    ]);
  }

  private proposal(tool: ToolCallState): Omit<RouterEventMap['tool-proposed'], 'turnId'> {
    return {
      tool: tool.name,
      arguments: tool.arguments,
      missing: tool.missing,
      status: tool.status,
    };
  }

  private specOf(name: string): ToolSpec | undefined {
    return this.catalog?.tools?.find((spec) => spec.name === name);
  }

  /** The message and label the call was made for (a follow-up turn continues an earlier one). */
  private callOrigin(id: string): { text: string; label: string } | null {
    const turn = this.turn(id);
    const origin = turn?.answers ? this.turn(turn.answers.turnId) : turn;
    return origin?.result ? { text: origin.text, label: origin.result.label } : null;
  }

  /**
   * Executes a call (validation, confirmation, timeout and cancellation are the executor's), then
   * writes the answer: the model's reply or the tool's template. Failures are shown on the turn;
   * a result is never made up.
   */
  private async runTool(
    id: string,
    tool: ToolCallState,
    confirmed: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    this.updateTool(id, { status: 'running' });
    const call = { name: tool.name, arguments: tool.arguments };
    try {
      if (!this.registry) {
        // NOTE: the customer gets a short line in their language; the problem list went to the
        // developer (console, `error` event) when the tools were configured.
        throw new ToolError(
          'tool-unknown',
          call.name,
          replyText(this.state.language).toolUnavailable,
          {
            cause: new Error(this.registryProblem ?? 'no tools are configured'),
          },
        );
      }
      const run = await runToolCall(this.registry, call, { signal, confirmed });
      this.updateTool(id, { status: 'done', result: run.result, durationMs: run.durationMs });
      this.emit('tool-executed', {
        turnId: id,
        tool: call.name,
        arguments: call.arguments,
        result: run.result,
        durationMs: run.durationMs,
      });
      const reply = await this.replyTo(id, call, run.result, signal);
      this.updateTool(id, { reply });
      this.emit('reply', {
        turnId: id,
        source: reply.source === 'model' ? 'model' : 'tool',
        text: reply.text,
      });
    } catch (error) {
      const serialized = serializeError(error);
      const language = this.state.language;
      this.updateTool(id, {
        status: 'error',
        error:
          error instanceof AbortError
            ? { code: serialized.code, message: replyText(language).cancelled }
            : { code: serialized.code, message: serialized.message },
      });
      if (!(error instanceof AbortError)) {
        this.emit('tool-failed', {
          turnId: id,
          tool: call.name,
          arguments: call.arguments,
          error: serialized,
        });
      }
    }
  }

  private async replyTo(
    id: string,
    call: { name: string; arguments: ToolCallState['arguments'] },
    result: unknown,
    signal: AbortSignal,
  ): Promise<NonNullable<ToolCallState['reply']>> {
    const { language, modelReplies } = this.state;
    const template =
      this.options.toolReply?.(call.name, result, language) ??
      replyText(language).toolDone(call.name);
    const origin = this.callOrigin(id);
    if (!modelReplies || !origin) return { text: template, source: 'template' };
    try {
      const reply = await this.classifier.writeReply({ ...origin, call, result }, { signal });
      // NOTE: an empty or cut-off reply is worse than the template; the result stays either way.
      return reply.finished && reply.text !== ''
        ? { text: reply.text, source: 'model' }
        : { text: template, source: 'template' };
    } catch (error) {
      if (error instanceof AbortError) throw error;
      return { text: template, source: 'template' };
    }
  }

  /** Hands the turn to the escalation handler, streaming its reply into the turn. */
  private async handOver(
    id: string,
    text: string,
    reason: EscalationReason,
    result: Classification,
    signal: AbortSignal,
  ): Promise<void> {
    const escalation = this.options.escalation ?? null;
    if (!escalation) {
      this.update(id, { escalation: { reason, status: 'unavailable', text: '' } });
      return;
    }
    const destination = describeEscalationConfig(escalation);
    this.update(id, {
      escalation: {
        reason,
        status: 'streaming',
        handler: escalation.kind,
        text: '',
        ...(destination.kind === 'chat-completions' && { endpointHost: destination.host }),
      },
    });
    const history = escalationHistory(this.state.turns.filter((turn) => turn.id !== id));
    try {
      const reply = await escalate(
        escalation,
        {
          reason,
          message: text,
          intentId: result.intentId,
          confidence: result.confidence,
          language: this.state.language,
          history,
        },
        {
          signal,
          onDelta: (soFar) => {
            this.updateEscalation(id, { text: soFar });
            this.emit('reply-delta', { turnId: id, source: 'escalation', text: soFar });
          },
        },
      );
      this.updateEscalation(id, { status: 'done', text: reply.text });
      if (reply.text !== '')
        this.emit('reply', { turnId: id, source: 'escalation', text: reply.text });
    } catch (error) {
      const serialized = serializeError(error);
      this.updateEscalation(id, {
        status: 'error',
        error:
          error instanceof AbortError
            ? { code: serialized.code, message: replyText(this.state.language).cancelled }
            : { code: serialized.code, message: serialized.message },
      });
      if (!(error instanceof AbortError)) {
        this.emit('error', { turnId: id, scope: 'turn', error: serialized });
      }
    }
  }
}

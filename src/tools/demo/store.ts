import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import {
  DEMO_ORDERS,
  DEMO_PLANS,
  DEMO_SEED_VERSION,
  type DemoOrder,
  type DemoPlan,
  type PlanName,
} from './orders';

/** Kinds of numbered documents the shop issues. */
export type SequenceKind = 'refund' | 'invoice';

/**
 * What the demo tools need from storage. The offline demo uses IndexedDB
 * (`IndexedDbShopStore`); Node, which has no IndexedDB, uses `MemoryShopStore` with the same
 * seed, so the business rules are tested once against this interface.
 */
export interface ShopStore {
  /** The order with this id, or undefined if the shop has none. */
  getOrder(orderId: string): Promise<DemoOrder | undefined>;
  putOrder(order: DemoOrder): Promise<void>;
  getPlan(name: PlanName): Promise<DemoPlan | undefined>;
  putPlan(plan: DemoPlan): Promise<void>;
  /** The next number of a refund or invoice (1, 2, …), never handed out twice by one store. */
  nextSequence(kind: SequenceKind): Promise<number>;
  /** Forgets every change and starts again from the seed. */
  reset(): Promise<void>;
}

const orderKey = (orderId: string) => `order:${orderId}`;
const planKey = (name: string) => `plan:${name}`;
const sequenceKey = (kind: SequenceKind) => `sequence:${kind}`;
const SEED_KEY = 'seed-version';

/** The seed as key/value records, the form both stores hold. */
function seedRecords(): [string, unknown][] {
  return [
    ...DEMO_ORDERS.map((order): [string, unknown] => [orderKey(order.order_id), order]),
    ...DEMO_PLANS.map((plan): [string, unknown] => [planKey(plan.name), plan]),
  ];
}

/** A shop kept in memory, seeded from the demo data; for Node and for hosts without storage. */
export class MemoryShopStore implements ShopStore {
  private records = new Map<string, unknown>();

  constructor() {
    this.seed();
  }

  private seed(): void {
    // NOTE: copies on the way in and out, as IndexedDB's structured clone does, so a caller
    // mutating what it read never changes the stored record behind the store's back.
    this.records = new Map(seedRecords().map(([key, value]) => [key, structuredClone(value)]));
  }

  private read(key: string): unknown {
    const value = this.records.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  getOrder(orderId: string): Promise<DemoOrder | undefined> {
    return Promise.resolve(this.read(orderKey(orderId)) as DemoOrder | undefined);
  }

  putOrder(order: DemoOrder): Promise<void> {
    this.records.set(orderKey(order.order_id), structuredClone(order));
    return Promise.resolve();
  }

  getPlan(name: PlanName): Promise<DemoPlan | undefined> {
    return Promise.resolve(this.read(planKey(name)) as DemoPlan | undefined);
  }

  putPlan(plan: DemoPlan): Promise<void> {
    this.records.set(planKey(plan.name), structuredClone(plan));
    return Promise.resolve();
  }

  nextSequence(kind: SequenceKind): Promise<number> {
    const current = this.read(sequenceKey(kind));
    const next = (typeof current === 'number' ? current : 0) + 1;
    this.records.set(sequenceKey(kind), next);
    return Promise.resolve(next);
  }

  reset(): Promise<void> {
    this.seed();
    return Promise.resolve();
  }
}

/**
 * The demo shop in IndexedDB (a database of its own, `fenliu-demo-shop`), so changes survive
 * reloads. Seeded on first use, and again whenever `DEMO_SEED_VERSION` changes.
 */
export class IndexedDbShopStore implements ShopStore {
  private readonly idb: UseStore;
  private seeded: Promise<void> | null = null;

  constructor(databaseName = 'fenliu-demo-shop') {
    this.idb = createStore(databaseName, 'records');
  }

  /**
   * Seeds in one read-write transaction, so two tabs opening the demo at once cannot both
   * seed over each other's changes.
   */
  private ready(): Promise<void> {
    this.seeded ??= this.idb('readwrite', async (store) => {
      const version = await promisifyRequest<unknown>(store.get(SEED_KEY));
      if (version === DEMO_SEED_VERSION) return;
      store.clear();
      for (const [key, value] of seedRecords()) store.put(value, key);
      store.put(DEMO_SEED_VERSION, SEED_KEY);
      await promisifyRequest(store.transaction);
    });
    // NOTE: a failed seed (storage blocked) is retried by the next call rather than cached.
    this.seeded.catch(() => {
      this.seeded = null;
    });
    return this.seeded;
  }

  private async read<T>(key: string): Promise<T | undefined> {
    await this.ready();
    return this.idb('readonly', (store) => promisifyRequest<T | undefined>(store.get(key)));
  }

  private async write(key: string, value: unknown): Promise<void> {
    await this.ready();
    await this.idb('readwrite', (store) => {
      store.put(value, key);
      return promisifyRequest(store.transaction);
    });
  }

  getOrder(orderId: string): Promise<DemoOrder | undefined> {
    return this.read<DemoOrder>(orderKey(orderId));
  }

  putOrder(order: DemoOrder): Promise<void> {
    return this.write(orderKey(order.order_id), order);
  }

  getPlan(name: PlanName): Promise<DemoPlan | undefined> {
    return this.read<DemoPlan>(planKey(name));
  }

  putPlan(plan: DemoPlan): Promise<void> {
    return this.write(planKey(plan.name), plan);
  }

  /** Reads and bumps the counter in one transaction, so no number is handed out twice. */
  async nextSequence(kind: SequenceKind): Promise<number> {
    await this.ready();
    return this.idb('readwrite', async (store) => {
      const current = await promisifyRequest<unknown>(store.get(sequenceKey(kind)));
      const next = (typeof current === 'number' ? current : 0) + 1;
      store.put(next, sequenceKey(kind));
      await promisifyRequest(store.transaction);
      return next;
    });
  }

  async reset(): Promise<void> {
    await this.idb('readwrite', (store) => {
      store.clear();
      return promisifyRequest(store.transaction);
    });
    this.seeded = null;
    await this.ready();
  }
}

let demoStore: IndexedDbShopStore | null = null;

/** The demo page's shop: one IndexedDB-backed store per page. */
export function demoShopStore(): IndexedDbShopStore {
  demoStore ??= new IndexedDbShopStore();
  return demoStore;
}

/** Puts the demo page's shop back to its seed (the demo's reset button, e2e tests). */
export function resetDemoStore(): Promise<void> {
  return demoShopStore().reset();
}

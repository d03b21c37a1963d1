import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEMO_DATA, REPO_ROOT } from './paths';

/**
 * The tables the demo's tool data is generated from (scripts/lib/tool-data.ts), read from
 * data/demo/generator/*.json and checked as they are read, so a typo there fails with the file and
 * the place instead of generating odd rows. See data/demo/generator/README.md for what each holds.
 */

/** Where the generator's tables live. */
export const GENERATOR_DATA = join(DEMO_DATA, 'generator');

/**
 * Message templates of one intent. Slots: {id} an order id, {addr} an address, {reason} {type}
 * {plan} (and their `_en` forms) a phrase naming an enum value, {phone} an 11-digit phone number,
 * {tracking} a courier's tracking number, {number} a 13-digit number that is not an order id.
 */
export interface IntentTemplates {
  label: string;
  /** The tool the intent calls; absent for intents that call none. */
  tool?: string;
  templates: string[];
}

/** A phrase slot: the tool argument it gives, and each enum value with the phrases naming it. */
export interface PhraseSlot {
  argument: string;
  /** [value, phrase] pairs, in file order (the order the seeded generator picks from). */
  phrases: [string, string][];
}

export interface City {
  city: string;
  /** Written before the city now and then; absent for the four municipalities. */
  province?: string;
  districts: string[];
}

/** One rule of `argumentsInMessage`: a message matching `pattern` (any case) names `value`. */
export type ArgumentRule = [value: string, pattern: RegExp];

export interface ToolDataTables {
  /** templates.json */
  templates: {
    /** The six tool intents, with and without arguments. */
    toolIntents: IntentTemplates[];
    /** Tool intents whose message has a number that is not an order id: the call has no order_id. */
    numbersThatAreNotOrderIds: IntentTemplates[];
    /** Intents without a tool whose message has an order id. */
    otherIntentsWithOrderId: IntentTemplates[];
  };
  /** slot-values.json */
  seededOrderIds: string[];
  /** By slot name (`reason`, `reason_en`, …). */
  phrases: ReadonlyMap<string, PhraseSlot>;
  cities: City[];
  roads: string[];
  estates: string[];
  /** [name, price in yuan] */
  products: [string, number][];
  /** [name, tracking-number prefix] */
  couriers: [string, string][];
  /** argument-rules.json: first matching rule wins. */
  rules: { reason: ArgumentRule[]; invoice_type: ArgumentRule[]; plan: ArgumentRule[] };
  /** Addresses in hand-written rows, which no rule finds: message → new delivery address. */
  handAnnotatedAddresses: ReadonlyMap<string, string>;
}

/** Reads and checks the three files of data/demo/generator/. */
export function readToolDataTables(dir = GENERATOR_DATA): ToolDataTables {
  const read = (name: string) => {
    const path = join(dir, name);
    return new Reader(JSON.parse(readFileSync(path, 'utf8')), relative(REPO_ROOT, path));
  };
  const templates = read('templates.json').only(
    'toolIntents',
    'numbersThatAreNotOrderIds',
    'otherIntentsWithOrderId',
  );
  const values = read('slot-values.json').only(
    'seededOrderIds',
    'phrases',
    'cities',
    'roads',
    'estates',
    'products',
    'couriers',
  );
  const rules = read('argument-rules.json').only(
    'reason',
    'invoice_type',
    'plan',
    'handAnnotatedAddresses',
  );
  return {
    templates: {
      toolIntents: readIntents(templates.get('toolIntents')),
      numbersThatAreNotOrderIds: readIntents(templates.get('numbersThatAreNotOrderIds')),
      otherIntentsWithOrderId: readIntents(templates.get('otherIntentsWithOrderId')),
    },
    seededOrderIds: values.get('seededOrderIds').strings(),
    phrases: values.get('phrases').map(readPhraseSlot),
    cities: values.get('cities').array(readCity),
    roads: values.get('roads').strings(),
    estates: values.get('estates').strings(),
    products: values.get('products').array((product) => {
      product.only('name', 'price');
      return [product.get('name').string(), product.get('price').number()];
    }),
    couriers: values.get('couriers').array((courier) => {
      courier.only('name', 'trackingPrefix');
      return [courier.get('name').string(), courier.get('trackingPrefix').string()];
    }),
    rules: {
      reason: readRules(rules.get('reason')),
      invoice_type: readRules(rules.get('invoice_type')),
      plan: readRules(rules.get('plan')),
    },
    handAnnotatedAddresses: rules.get('handAnnotatedAddresses').map((text) => text.string()),
  };
}

function readIntents(list: Reader): IntentTemplates[] {
  return list.array((intent) => {
    intent.only('label', 'tool', 'templates');
    return {
      label: intent.get('label').string(),
      ...(intent.has('tool') && { tool: intent.get('tool').string() }),
      templates: intent.get('templates').strings(),
    };
  });
}

function readPhraseSlot(slot: Reader): PhraseSlot {
  slot.only('argument', 'values');
  const phrases = slot.get('values').array((group) => {
    group.only('value', 'phrases');
    const value = group.get('value').string();
    return group
      .get('phrases')
      .strings()
      .map((phrase): [string, string] => [value, phrase]);
  });
  return { argument: slot.get('argument').string(), phrases: phrases.flat() };
}

function readCity(city: Reader): City {
  city.only('city', 'province', 'districts');
  return {
    city: city.get('city').string(),
    ...(city.has('province') && { province: city.get('province').string() }),
    districts: city.get('districts').strings(),
  };
}

function readRules(list: Reader): ArgumentRule[] {
  return list.array((rule) => {
    rule.only('value', 'pattern');
    return [rule.get('value').string(), new RegExp(rule.get('pattern').string(), 'i')];
  });
}

/** A JSON value and where it is (`file: path`), read as the type the caller expects or an error. */
class Reader {
  constructor(
    private readonly value: unknown,
    private readonly at: string,
  ) {}

  private fail(expected: string): never {
    throw new Error(`${this.at}: expected ${expected}, found ${JSON.stringify(this.value)}`);
  }

  private object(): Record<string, unknown> {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) {
      return this.fail('an object');
    }
    return this.value as Record<string, unknown>;
  }

  has(key: string): boolean {
    return key in this.object();
  }

  /** Fails on a key the reader does not know (a misspelt optional key would be ignored). */
  only(...keys: string[]): this {
    const stray = Object.keys(this.object()).filter((key) => !keys.includes(key));
    if (stray.length > 0) throw new Error(`${this.at}: unexpected ${stray.join(', ')}`);
    return this;
  }

  get(key: string): Reader {
    const object = this.object();
    const path = this.at.includes(': ') ? `${this.at}.${key}` : `${this.at}: ${key}`;
    if (!(key in object)) throw new Error(`${path} is missing`);
    return new Reader(object[key], path);
  }

  string(): string {
    return typeof this.value === 'string' ? this.value : this.fail('a string');
  }

  number(): number {
    return typeof this.value === 'number' ? this.value : this.fail('a number');
  }

  array<T>(item: (reader: Reader) => T): T[] {
    if (!Array.isArray(this.value)) return this.fail('an array');
    return this.value.map((value: unknown, index) =>
      item(new Reader(value, `${this.at}[${index}]`)),
    );
  }

  strings(): string[] {
    return this.array((item) => item.string());
  }

  /** An object's values by key, in file order. */
  map<T>(item: (reader: Reader) => T): Map<string, T> {
    return new Map(Object.keys(this.object()).map((key) => [key, item(this.get(key))]));
  }
}

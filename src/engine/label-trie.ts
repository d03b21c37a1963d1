/**
 * The catalog's answers as a token trie: the only sequences the model may produce. Each label's
 * answer (its tokens, then `<|im_end|>`) is a path from the root to a leaf.
 *
 * Only *branch points* (nodes with two or more children) need the model: everywhere else the next
 * token is forced. A label's probability under constrained decoding is the product, over the
 * branch points on its path, of the model's probability for the chosen child renormalised over
 * the allowed children. These probabilities sum to 1 over the labels by construction, and when
 * every label starts with a different token a single model step decides.
 */

export interface TrieNode {
  /** Tokens from the root to this node. */
  path: readonly number[];
  children: Map<number, TrieNode>;
  /** Index of the label whose answer ends here, or -1. */
  labelIndex: number;
}

export class LabelTrie {
  readonly root: TrieNode;
  /** Nodes where the model must choose, parents before children (the root first if it branches). */
  readonly branchPoints: readonly TrieNode[];
  readonly labelCount: number;

  /**
   * @param answers token ids of each label's answer, in label order; each must be non-empty,
   *   distinct, and no answer may be a prefix of another (true when all end in `<|im_end|>`).
   */
  constructor(answers: readonly (readonly number[])[]) {
    if (answers.length === 0) throw new Error('LabelTrie needs at least one answer');
    this.labelCount = answers.length;
    this.root = { path: [], children: new Map(), labelIndex: -1 };
    answers.forEach((tokens, labelIndex) => {
      if (tokens.length === 0) throw new Error(`answer ${labelIndex} has no tokens`);
      let node = this.root;
      for (const token of tokens) {
        if (node.labelIndex >= 0) {
          throw new Error(`answer ${node.labelIndex} is a prefix of answer ${labelIndex}`);
        }
        let child = node.children.get(token);
        if (!child) {
          child = { path: [...node.path, token], children: new Map(), labelIndex: -1 };
          node.children.set(token, child);
        }
        node = child;
      }
      if (node.labelIndex >= 0) {
        throw new Error(`answers ${node.labelIndex} and ${labelIndex} are the same tokens`);
      }
      if (node.children.size > 0) {
        throw new Error(`answer ${labelIndex} is a prefix of another answer`);
      }
      node.labelIndex = labelIndex;
    });
    const branchPoints: TrieNode[] = [];
    const queue = [this.root];
    for (let node = queue.shift(); node; node = queue.shift()) {
      if (node.children.size > 1) branchPoints.push(node);
      queue.push(...node.children.values());
    }
    this.branchPoints = branchPoints;
  }

  /** The node reached by `tokens` from the root, or undefined if they leave the trie. */
  find(tokens: readonly number[]): TrieNode | undefined {
    let node: TrieNode | undefined = this.root;
    for (const token of tokens) {
      node = node.children.get(token);
      if (!node) return undefined;
    }
    return node;
  }

  /** Tokens allowed after `tokens` (empty at a leaf or outside the trie). */
  allowedNext(tokens: readonly number[]): number[] {
    return [...(this.find(tokens)?.children.keys() ?? [])];
  }

  /**
   * Each label's constrained log-probability, given the model's next-token logits at every branch
   * point (`logitsAt(node)` returns the full-vocabulary logits after `node.path`).
   */
  labelLogProbs(logitsAt: (node: TrieNode) => ArrayLike<number>): number[] {
    const logProbs = new Array<number>(this.labelCount).fill(0);
    const visit = (node: TrieNode, logProb: number): void => {
      if (node.labelIndex >= 0) {
        logProbs[node.labelIndex] = logProb;
        return;
      }
      if (node.children.size === 1) {
        for (const child of node.children.values()) visit(child, logProb);
        return;
      }
      const logits = logitsAt(node);
      const tokens = [...node.children.keys()];
      const childLogits = tokens.map((token) => logits[token] ?? Number.NEGATIVE_INFINITY);
      const normaliser = logSumExp(childLogits);
      tokens.forEach((token, index) => {
        const child = node.children.get(token);
        const childLogit = childLogits[index];
        if (child && childLogit !== undefined) visit(child, logProb + childLogit - normaliser);
      });
    };
    visit(this.root, 0);
    return logProbs;
  }

  /**
   * The label constrained greedy decoding produces: at each branch point the allowed child with
   * the highest logit (ties go to the lower token id, like an argmax over the vocabulary).
   */
  greedyLabel(logitsAt: (node: TrieNode) => ArrayLike<number>): number {
    let node = this.root;
    while (node.labelIndex < 0) {
      let best: TrieNode | undefined;
      if (node.children.size === 1) {
        best = node.children.values().next().value;
      } else {
        const logits = logitsAt(node);
        let bestLogit = Number.NEGATIVE_INFINITY;
        for (const [token, child] of [...node.children].sort(([a], [b]) => a - b)) {
          const logit = logits[token] ?? Number.NEGATIVE_INFINITY;
          if (best === undefined || logit > bestLogit) {
            best = child;
            bestLogit = logit;
          }
        }
      }
      if (!best) throw new Error('trie node without children');
      node = best;
    }
    return node.labelIndex;
  }
}

export function logSumExp(values: readonly number[]): number {
  const max = Math.max(...values);
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (const value of values) sum += Math.exp(value - max);
  return max + Math.log(sum);
}

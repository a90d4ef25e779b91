import type { AnyNode } from './node.ts';
import { ConfigError } from './config/validation.ts';

/** Node types by name: how a config's `type: panoptic-fusion` finds its code. */
export class NodeRegistry {
  private readonly nodes = new Map<string, AnyNode>();

  constructor(nodes: readonly AnyNode[] = []) {
    for (const node of nodes) this.register(node);
  }

  register(node: AnyNode): this {
    if (this.nodes.has(node.type)) throw new Error(`node type "${node.type}" is registered twice`);
    this.nodes.set(node.type, node);
    return this;
  }

  /** The node of `type` and `kind`, or an error that lists the types of that kind. */
  get<K extends AnyNode['kind']>(type: string, kind: K, where: string): Extract<AnyNode, { kind: K }> {
    const node = this.nodes.get(type);
    if (node?.kind === kind) return node as Extract<AnyNode, { kind: K }>;
    const known = [...this.nodes.values()].filter((n) => n.kind === kind).map((n) => n.type);
    const what = node ? `"${type}" is a ${node.kind}, not a ${kind}` : `unknown ${kind} type "${type}"`;
    throw new ConfigError(`${where}: ${what}; expected one of: ${known.join(', ')}`);
  }

  list(): readonly AnyNode[] {
    return [...this.nodes.values()];
  }
}

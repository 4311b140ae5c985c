/**
 * A trace's spans as a tree, and the rows a waterfall shows of it given the spans the
 * operator collapsed. Pure, like Jaeger UI's TraceTimelineViewer: the tree and the visible
 * rows are computed here, and the component only draws them.
 */
import type { TraceSpan } from '@rtm/protocol';

// The spans are what `GET /admin/api/messages/:channel/:ts/trace` answers; the protocol package owns their shape.
export type { SpanEvent, TraceSpan } from '@rtm/protocol';

/** A span in the tree. */
export interface SpanNode {
  span: TraceSpan;
  /** 0 for a root. */
  depth: number;
  /** Sorted by start, then by name so equal starts keep a stable order. */
  children: SpanNode[];
  /** How many spans are below this one, at any depth. */
  descendants: number;
  /** Its parent's span id is set but no such span is in the trace (not exported yet, or dropped). */
  orphan: boolean;
}

/** A trace's spans as a forest. */
export interface SpanTree {
  /** Sorted by start; the true root first when it started first. */
  roots: SpanNode[];
  /** Every node in depth-first order: the order of the waterfall's rows when nothing is collapsed. */
  nodes: SpanNode[];
  byId: ReadonlyMap<string, SpanNode>;
  /** The deepest node's depth; -1 for an empty trace. */
  maxDepth: number;
}

/** One row of the waterfall. */
export interface VisibleRow {
  node: SpanNode;
  /** The node has children and they are hidden. */
  collapsed: boolean;
}

const byStart = (a: SpanNode, b: SpanNode): number =>
  a.span.start_us - b.span.start_us || a.span.name.localeCompare(b.span.name) || a.span.span_id.localeCompare(b.span.span_id);

/**
 * Builds the tree of a trace. Children are sorted by start; a span whose parent is missing
 * becomes a root (marked `orphan`), and so does a span caught in a parent cycle (malformed
 * data must still draw every span once). A repeated span id keeps its first span.
 */
export function buildSpanTree(spans: readonly TraceSpan[]): SpanTree {
  const byId = new Map<string, SpanNode>();
  for (const span of spans) {
    if (!byId.has(span.span_id)) byId.set(span.span_id, { span, depth: 0, children: [], descendants: 0, orphan: false });
  }
  const roots: SpanNode[] = [];
  for (const node of byId.values()) {
    const parentId = node.span.parent_span_id;
    const parent = parentId === null ? undefined : byId.get(parentId);
    if (parent && parent !== node) parent.children.push(node);
    else {
      node.orphan = parentId !== null;
      roots.push(node);
    }
  }
  for (const node of byId.values()) node.children.sort(byStart);
  roots.sort(byStart);

  const nodes: SpanNode[] = [];
  const visited = new Set<SpanNode>();
  let maxDepth = -1;
  const visit = (root: SpanNode): void => {
    // Iterative, so a long chain of spans cannot overflow the stack.
    const stack: SpanNode[] = [root];
    root.depth = 0;
    while (stack.length > 0) {
      const node = stack.pop()!;
      visited.add(node);
      nodes.push(node);
      maxDepth = Math.max(maxDepth, node.depth);
      for (let i = node.children.length - 1; i >= 0; i--) {
        const child = node.children[i]!;
        child.depth = node.depth + 1;
        stack.push(child);
      }
    }
  };
  for (const root of roots) visit(root);

  // Spans in a parent cycle are reachable from no root: cut the earliest one loose, repeatedly.
  while (visited.size < byId.size) {
    const stray = [...byId.values()].filter((n) => !visited.has(n)).sort(byStart)[0]!;
    const parent = byId.get(stray.span.parent_span_id ?? '');
    if (parent) parent.children = parent.children.filter((c) => c !== stray);
    stray.orphan = true;
    roots.push(stray);
    visit(stray);
  }

  // Children come after their parent in `nodes`, so a reverse pass counts descendants bottom-up.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    node.descendants = node.children.reduce((sum, c) => sum + 1 + c.descendants, 0);
  }
  return { roots, nodes, byId, maxDepth };
}

/** The rows shown when the spans in `collapsed` hide their descendants, in depth-first order. */
export function visibleRows(tree: SpanTree, collapsed: ReadonlySet<string>): VisibleRow[] {
  const rows: VisibleRow[] = [];
  const stack = [...tree.roots].reverse();
  while (stack.length > 0) {
    const node = stack.pop()!;
    const hidden = node.children.length > 0 && collapsed.has(node.span.span_id);
    rows.push({ node, collapsed: hidden });
    if (!hidden) for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return rows;
}

/**
 * The collapsed set that shows spans down to `depth` (roots are depth 0): every span at that
 * depth or deeper with children is collapsed, so expanding one of them later reveals one more
 * level, not its whole subtree.
 */
export function collapseBeyondDepth(tree: SpanTree, depth: number): Set<string> {
  return new Set(tree.nodes.filter((n) => n.depth >= depth && n.children.length > 0).map((n) => n.span.span_id));
}

/** The collapsed set that shows every span. */
export function expandAll(): Set<string> {
  return new Set();
}

/** The collapsed set that shows only the roots. */
export function collapseAll(tree: SpanTree): Set<string> {
  return collapseBeyondDepth(tree, 0);
}

/** A new collapsed set with `spanId` toggled; the given set is left as it was. */
export function toggleCollapsed(collapsed: ReadonlySet<string>, spanId: string): Set<string> {
  const next = new Set(collapsed);
  if (!next.delete(spanId)) next.add(spanId);
  return next;
}

/** The `span.kind` attribute (`server`, `client`, `producer`, `consumer`, `internal`), lower-cased; undefined if absent. */
export function spanKind(span: TraceSpan): string | undefined {
  const kind = span.attributes['span.kind'];
  return typeof kind === 'string' ? kind.toLowerCase() : undefined;
}

/** Whether a span is a Kafka consumer's processing span (`span.kind` consumer, or a messaging `process` span). */
export function isConsumerSpan(span: TraceSpan): boolean {
  return spanKind(span) === 'consumer' || span.attributes['messaging.operation.type'] === 'process';
}

/** Whether a span is a Kafka producer's publish span (`span.kind` producer, or a messaging `send` span). */
export function isProducerSpan(span: TraceSpan): boolean {
  return spanKind(span) === 'producer' || span.attributes['messaging.operation.type'] === 'send';
}

/** When the span ends, in microseconds since the epoch; a negative duration counts as zero. */
export function spanEnd(span: TraceSpan): number {
  return span.start_us + Math.max(0, span.duration_us);
}

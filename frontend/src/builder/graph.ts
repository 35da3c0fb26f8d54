/** The flow drawn as a graph (start -> ... -> end) with an automatic layout (dagre).
 * Framework-free: the React view turns these into @xyflow/react nodes and edges. */
import { graphlib, layout } from "@dagrejs/dagre";
import { describeCondition } from "./conditions";
import type { Flow } from "./model";
import { routeStrategy, walkFlow } from "./walk";

export type GraphNodeKind = "start" | "end" | "agent" | "parallel" | "foreach" | "route" | "loop" | "join" | "until" | "empty";

export interface GraphNode {
  id: string;
  kind: GraphNodeKind;
  label: string;
  detail: string;
  /** the flow node this graph node selects (joins and ends select their container) */
  uid?: string;
  /** the runtime step ids shown on this node (agent step; a route's router step) */
  stepId?: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  label?: string;
  back?: boolean;
}

export interface FlowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const SIZE: Record<GraphNodeKind, [number, number]> = {
  start: [70, 32],
  end: [70, 32],
  agent: [190, 58],
  parallel: [150, 44],
  foreach: [170, 44],
  route: [180, 52],
  loop: [150, 44],
  join: [24, 24],
  until: [190, 40],
  empty: [150, 40],
};

interface Fragment {
  entry: string;
  exits: string[];
}

export function flowToGraph(flow: Flow | null, roles: Record<string, string> = {}): FlowGraph {
  const nodes: Omit<GraphNode, "x" | "y">[] = [];
  const edges: GraphEdge[] = [];
  const info = flow ? walkFlow(flow) : new Map();
  const add = (id: string, kind: GraphNodeKind, label: string, detail = "", uid?: string, stepId?: string): string => {
    const [width, height] = SIZE[kind];
    nodes.push({ id, kind, label, detail, width, height, ...(uid ? { uid } : {}), ...(stepId ? { stepId } : {}) });
    return id;
  };
  const link = (from: string[], to: string, label?: string, back?: boolean): void => {
    for (const source of from) {
      edges.push({ id: `${source}->${to}${label ? `:${label}` : ""}`, source, target: to, ...(label ? { label } : {}), ...(back ? { back } : {}) });
    }
  };
  const build = (node: Flow): Fragment => {
    const runtime = info.get(node.uid);
    switch (node.kind) {
      case "agent": {
        const id = add(node.uid, "agent", runtime?.runtimeId ?? node.agent, roles[node.agent] ?? node.agent, node.uid, runtime?.runtimeId);
        return { entry: id, exits: [id] };
      }
      case "sequence": {
        if (node.children.length === 0) {
          const id = add(node.uid, "empty", "empty sequence", "add a step", node.uid);
          return { entry: id, exits: [id] };
        }
        const parts = node.children.map(build);
        parts.slice(1).forEach((part, i) => link(parts[i]?.exits ?? [], part.entry));
        return { entry: parts[0]?.entry ?? node.uid, exits: parts[parts.length - 1]?.exits ?? [] };
      }
      case "parallel":
      case "foreach": {
        const limit = node.max_parallel ? `at most ${node.max_parallel} at once` : "";
        const fork = node.kind === "parallel"
          ? add(node.uid, "parallel", `parallel ×${node.children.length}`, limit, node.uid)
          : add(node.uid, "foreach", `for each ${node.path}`, limit, node.uid);
        const join = add(`${node.uid}:join`, "join", "", "", node.uid);
        const branches = node.kind === "parallel" ? node.children : [node.body];
        if (branches.length === 0) link([fork], join);
        for (const branch of branches) {
          const part = build(branch);
          link([fork], part.entry);
          link(part.exits, join);
        }
        return { entry: fork, exits: [join] };
      }
      case "route": {
        const strategy = routeStrategy(node);
        const detail = strategy === "agent" ? `router: ${node.router ?? "?"}` : `by ${strategy}`;
        const id = add(node.uid, "route", "route", detail, node.uid, runtime?.routerStepId);
        const join = add(`${node.uid}:join`, "join", "", "", node.uid);
        const arms: [string, Flow][] = node.cases.map((c) => [c.name, c.body]);
        if (node.default) arms.push(["default", node.default]);
        if (arms.length === 0) link([id], join);
        for (const [label, body] of arms) {
          const part = build(body);
          link([id], part.entry, label);
          link(part.exits, join);
        }
        return { entry: id, exits: [join] };
      }
      case "loop": {
        const id = add(node.uid, "loop", "loop", `at most ${node.max_iterations}×`, node.uid);
        const until = add(`${node.uid}:until`, "until", `until ${describeCondition(node.until)}`, "", node.uid);
        const part = build(node.body);
        link([id], part.entry);
        link(part.exits, until);
        link([until], id, "repeat", true);
        return { entry: id, exits: [until] };
      }
    }
  };
  const start = add("start", "start", "input");
  const end = add("end", "end", "output");
  if (flow) {
    const part = build(flow);
    link([start], part.entry);
    link(part.exits, end);
  } else {
    link([start], end);
  }
  return layoutGraph(nodes, edges);
}

function layoutGraph(nodes: Omit<GraphNode, "x" | "y">[], edges: GraphEdge[]): FlowGraph {
  const g = new graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 28, ranksep: 56, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  // dagre stacks siblings bottom-up in insertion order: add them reversed so that the first
  // branch (or case) is drawn on top
  for (const n of [...nodes].reverse()) g.setNode(n.id, { width: n.width, height: n.height });
  for (const e of [...edges].reverse()) g.setEdge(e.source, e.target, { label: e.label ?? "", width: e.label ? 60 : 0, height: e.label ? 16 : 0 }, e.id);
  layout(g);
  return {
    nodes: nodes.map((n) => {
      const placed = g.node(n.id) as { x: number; y: number };
      return { ...n, x: placed.x - n.width / 2, y: placed.y - n.height / 2 };
    }),
    edges,
  };
}

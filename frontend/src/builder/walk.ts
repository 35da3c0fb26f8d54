/** Each flow node's definition path and runtime id, computed exactly as the server's IR
 * builder does (agentweaver/workflow/ir.py): pre-order, `name`, then `name_2`, ... */
import type { Flow } from "./model";

export interface NodeInfo {
  uid: string;
  /** "flow.sequence[1].route.cases[0].do": where the node is in the definition */
  path: string;
  /** the step id (agent nodes) or container id (sequence_2, route, ...) */
  runtimeId: string;
  /** a route's router step id when it has a router agent */
  routerStepId?: string;
  node: Flow;
  parent?: string;
}

export function routeStrategy(node: Flow & { kind: "route" }): "rules" | "agent" | "skills" {
  return node.by ?? (node.router ? "agent" : "rules");
}

export function walkFlow(root: Flow): Map<string, NodeInfo> {
  const out = new Map<string, NodeInfo>();
  const ids = new Set<string>();
  const counters = new Map<string, number>();
  const claim = (wanted: string | undefined, baseName: string): string => {
    if (wanted) {
      ids.add(wanted);
      return wanted;
    }
    let n = counters.get(baseName) ?? 0;
    let candidate: string;
    for (;;) {
      n += 1;
      candidate = n === 1 ? baseName : `${baseName}_${n}`;
      if (!ids.has(candidate)) break;
    }
    counters.set(baseName, n);
    ids.add(candidate);
    return candidate;
  };
  const visit = (node: Flow, path: string, parent?: string): void => {
    const info: NodeInfo = { uid: node.uid, path, runtimeId: "", node, parent };
    out.set(node.uid, info);
    switch (node.kind) {
      case "agent":
        info.runtimeId = claim(node.id, node.agent);
        return;
      case "sequence":
      case "parallel":
        info.runtimeId = claim(node.id, node.kind);
        node.children.forEach((child, i) => visit(child, `${path}.${node.kind}[${i}]`, node.uid));
        return;
      case "foreach":
        info.runtimeId = claim(node.id, "foreach");
        visit(node.body, `${path}.do`, node.uid);
        return;
      case "loop":
        info.runtimeId = claim(node.id, "loop");
        visit(node.body, `${path}.loop`, node.uid);
        return;
      case "route":
        info.runtimeId = claim(node.id, "route");
        if (routeStrategy(node) === "agent" && node.router) {
          info.routerStepId = claim(`${info.runtimeId}_router`, node.router);
        }
        node.cases.forEach((c, i) => visit(c.body, `${path}.route.cases[${i}].do`, node.uid));
        if (node.default) visit(node.default, `${path}.route.default`, node.uid);
        return;
    }
  };
  visit(root, "flow");
  return out;
}

/** The runtime step id of a recorded step without its foreach `[i]` / loop `#k` suffixes. */
export function baseStepId(stepId: string): string {
  return stepId.replace(/(\[\d+\]|#\d+)+$/g, "").replace(/(\[\d+\]|#\d+)/g, "");
}

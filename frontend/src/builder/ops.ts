/** Edits of the flow tree: pure functions returning a new tree (the graph's actions). */
import { type Flow, type FlowKind, type RouteCaseFlow, newUid } from "./model";

/** Apply `fn` to every node, children first (a structural map). */
export function mapFlow(node: Flow, fn: (n: Flow) => Flow): Flow {
  switch (node.kind) {
    case "sequence":
    case "parallel":
      return fn({ ...node, children: node.children.map((c) => mapFlow(c, fn)) });
    case "foreach":
    case "loop":
      return fn({ ...node, body: mapFlow(node.body, fn) });
    case "route":
      return fn({
        ...node,
        cases: node.cases.map((c) => ({ ...c, body: mapFlow(c.body, fn) })),
        ...(node.default ? { default: mapFlow(node.default, fn) } : {}),
      });
    default:
      return fn(node);
  }
}

export function findNode(root: Flow, uid: string): Flow | undefined {
  let found: Flow | undefined;
  mapFlow(root, (n) => {
    if (n.uid === uid) found = n;
    return n;
  });
  return found;
}

export function contains(node: Flow, uid: string): boolean {
  return findNode(node, uid) !== undefined;
}

/** The list (sequence or parallel) holding `uid`, and its index there. */
export function listParent(root: Flow, uid: string): { parent: Flow & { children: Flow[] }; index: number } | undefined {
  let found: { parent: Flow & { children: Flow[] }; index: number } | undefined;
  mapFlow(root, (n) => {
    if ((n.kind === "sequence" || n.kind === "parallel") && !found) {
      const index = n.children.findIndex((c) => c.uid === uid);
      if (index >= 0) found = { parent: n, index };
    }
    return n;
  });
  return found;
}

export function updateNode(root: Flow, uid: string, fn: (n: Flow) => Flow): Flow {
  return mapFlow(root, (n) => (n.uid === uid ? fn(n) : n));
}

export function replaceNode(root: Flow, uid: string, next: Flow): Flow {
  return updateNode(root, uid, () => next);
}

/** Insert `added` to run right after `uid` (wrapping `uid` in a sequence if it is not in one). */
export function insertAfter(root: Flow, uid: string, added: Flow): Flow {
  const holder = listParent(root, uid);
  if (holder && holder.parent.kind === "sequence") {
    return updateNode(root, holder.parent.uid, (p) => {
      const children = [...(p as typeof holder.parent).children];
      children.splice(holder.index + 1, 0, added);
      return { ...p, children } as Flow;
    });
  }
  return updateNode(root, uid, (n) => ({ uid: newUid(), kind: "sequence", children: [n, added] }));
}

/** Remove `uid`: from its sequence/parallel list, or the route's default. Null: the root went. */
export function removeNode(root: Flow, uid: string): Flow | null {
  if (root.uid === uid) return null;
  const holder = listParent(root, uid);
  if (holder) {
    return updateNode(root, holder.parent.uid, (p) => ({
      ...p,
      children: (p as typeof holder.parent).children.filter((c) => c.uid !== uid),
    }) as Flow);
  }
  return mapFlow(root, (n) => {
    if (n.kind === "route" && n.default?.uid === uid) {
      const { default: _dropped, ...rest } = n;
      void _dropped;
      return rest as Flow;
    }
    return n;
  });
}

/** Whether `uid` can be removed (a foreach/loop body or a case's only node cannot). */
export function canRemove(root: Flow, uid: string): boolean {
  if (root.uid === uid || listParent(root, uid)) return true;
  let isDefault = false;
  mapFlow(root, (n) => {
    if (n.kind === "route" && n.default?.uid === uid) isDefault = true;
    return n;
  });
  return isDefault;
}

/** Move `uid` one place earlier (-1) or later (+1) in its sequence or parallel. */
export function moveNode(root: Flow, uid: string, delta: -1 | 1): Flow {
  const holder = listParent(root, uid);
  if (!holder) return root;
  const target = holder.index + delta;
  if (target < 0 || target >= holder.parent.children.length) return root;
  return updateNode(root, holder.parent.uid, (p) => {
    const children = [...(p as typeof holder.parent).children];
    const [moved] = children.splice(holder.index, 1);
    if (moved) children.splice(target, 0, moved);
    return { ...p, children } as Flow;
  });
}

/** An edge drawn from `source` to `target`: `target` now runs right after `source`. */
export function connect(root: Flow, source: string, target: string): Flow {
  const moving = findNode(root, target);
  if (!moving || source === target || contains(moving, source) || root.uid === target) return root;
  if (!canRemove(root, target)) return root;
  const without = removeNode(root, target);
  return without ? insertAfter(without, source, moving) : root;
}

/** Replace `uid` with a container of `kind` around it. */
export function wrapNode(root: Flow, uid: string, kind: Exclude<FlowKind, "agent" | "route">): Flow {
  return updateNode(root, uid, (n): Flow => {
    const uidNew = newUid();
    if (kind === "sequence" || kind === "parallel") return { uid: uidNew, kind, children: [n] };
    if (kind === "foreach") return { uid: uidNew, kind, path: "$", body: n };
    return { uid: uidNew, kind: "loop", body: n, max_iterations: 3 };
  });
}

export function addChild(root: Flow, containerUid: string, child: Flow): Flow {
  return updateNode(root, containerUid, (n) =>
    n.kind === "sequence" || n.kind === "parallel" ? { ...n, children: [...n.children, child] } : n,
  );
}

export function addCase(root: Flow, routeUid: string, added: RouteCaseFlow): Flow {
  return updateNode(root, routeUid, (n) => (n.kind === "route" ? { ...n, cases: [...n.cases, added] } : n));
}

/** Every agent reference to `from` now names `to` (nodes and route routers). */
export function renameAgent(root: Flow, from: string, to: string): Flow {
  return mapFlow(root, (n) => {
    if (n.kind === "agent" && n.agent === from) return { ...n, agent: to };
    if (n.kind === "route" && n.router === from) return { ...n, router: to };
    return n;
  });
}

/** The agent names the flow uses. */
export function agentsUsed(root: Flow): Set<string> {
  const used = new Set<string>();
  mapFlow(root, (n) => {
    if (n.kind === "agent") used.add(n.agent);
    if (n.kind === "route" && n.router) used.add(n.router);
    return n;
  });
  return used;
}

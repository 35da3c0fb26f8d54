/** The flow as a nested list of buttons: the keyboard way to select graph nodes. */
import type { Flow } from "./model";
import { walkFlow } from "./walk";

function describe(node: Flow, runtimeId: string): string {
  switch (node.kind) {
    case "agent":
      return `${runtimeId} (agent ${node.agent})`;
    case "foreach":
      return `for each ${node.path}`;
    case "loop":
      return `loop ≤${node.max_iterations}×`;
    case "route":
      return node.router ? `route by ${node.router}` : `route by ${node.by ?? "rules"}`;
    default:
      return `${node.kind} (${node.children.length})`;
  }
}

function children(node: Flow): { label?: string; node: Flow }[] {
  switch (node.kind) {
    case "sequence":
    case "parallel":
      return node.children.map((c) => ({ node: c }));
    case "foreach":
    case "loop":
      return [{ node: node.body }];
    case "route":
      return [...node.cases.map((c) => ({ label: c.name, node: c.body })), ...(node.default ? [{ label: "default", node: node.default }] : [])];
    default:
      return [];
  }
}

export function FlowOutline({ flow, selected, onSelect, issues }: { flow: Flow; selected: string | null; onSelect: (uid: string) => void; issues: Record<string, string[]> }) {
  const info = walkFlow(flow);
  const render = (node: Flow, label?: string) => (
    <li key={node.uid}>
      {label && <span className="case-label">{label}: </span>}
      <button
        type="button"
        className={`outline-node${selected === node.uid ? " is-selected" : ""}${issues[node.uid] ? " has-issues" : ""}`}
        aria-pressed={selected === node.uid}
        onClick={() => onSelect(node.uid)}
      >
        {describe(node, info.get(node.uid)?.runtimeId ?? "")}
        {issues[node.uid] && <span className="sr-only"> — {issues[node.uid]?.join("; ")}</span>}
      </button>
      {children(node).length > 0 && <ul>{children(node).map((c) => render(c.node, c.label))}</ul>}
    </li>
  );
  return (
    <nav aria-label="Flow outline" className="outline">
      <ul>{render(flow)}</ul>
    </nav>
  );
}

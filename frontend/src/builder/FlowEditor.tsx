/** The composable flow: the graph (select, connect), its outline and the node inspector. */
import { useCallback, useMemo, useState } from "react";
import { FlowCanvas } from "../components/FlowCanvas";
import { effectiveFlow } from "./convert";
import { flowToGraph, type GraphNode } from "./graph";
import type { BuilderState } from "./model";
import { connect, findNode } from "./ops";
import { FlowOutline } from "./FlowOutline";
import { NodeInspector } from "./NodeInspector";
import type { BuilderActions } from "./useBuilderState";

export function FlowEditor({ state, actions, nodeIssues }: { state: BuilderState; actions: BuilderActions; nodeIssues: Record<string, string[]> }) {
  const [selected, setSelected] = useState<string | null>(null);
  const flow = useMemo(() => effectiveFlow(state), [state]);
  const roles = useMemo(() => Object.fromEntries(state.agents.map((a) => [a.name, a.spec.role])), [state.agents]);
  const graph = useMemo(() => flowToGraph(flow, roles), [flow, roles]);
  const issuesOf = useCallback((n: GraphNode) => (n.uid && n.kind !== "join" && n.kind !== "until" ? nodeIssues[n.uid] : undefined), [nodeIssues]);
  const node = selected ? findNode(flow, selected) : undefined;
  const agents = state.agents.map((a) => a.name);
  return (
    <section className="flow-editor" aria-labelledby="flow-title">
      <h2 id="flow-title">Flow</h2>
      <p className="hint">
        {state.flow ? "Custom flow." : `Arranged by the ${state.mode} mode; editing the graph makes it a custom flow.`} Select a node to configure it;
        drag from a node’s right edge onto another to make that one run next.
      </p>
      <FlowCanvas
        graph={graph}
        label="Flow graph"
        selected={selected}
        onSelect={setSelected}
        onConnect={(s, t) => actions.editFlow((f) => connect(f, s, t))}
        issuesOf={issuesOf}
      />
      <div className="flow-side">
        <FlowOutline flow={flow} selected={selected} onSelect={setSelected} issues={nodeIssues} />
        {node ? (
          <NodeInspector key={node.uid} root={flow} node={node} agents={agents} issues={nodeIssues[node.uid]} onEdit={actions.editFlow} onSelect={setSelected} />
        ) : (
          <p className="muted inspector-empty">Select a node in the graph or the outline to configure it.</p>
        )}
      </div>
    </section>
  );
}

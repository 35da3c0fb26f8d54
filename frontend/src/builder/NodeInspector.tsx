/** Configure the selected flow node and act on it: add after, re-order, wrap, delete. */
import { useId, useState } from "react";
import { FieldErrors } from "../components/FieldErrors";
import { AgentSelect } from "./AgentSelect";
import { ConditionInput } from "./ConditionInput";
import { type Flow, type OnError, newUid } from "./model";
import { addChild, canRemove, insertAfter, listParent, moveNode, removeNode, replaceNode, wrapNode } from "./ops";
import { RouteEditor } from "./RouteEditor";

interface Props {
  root: Flow;
  node: Flow;
  agents: string[];
  issues: string[] | undefined;
  onEdit: (fn: (flow: Flow) => Flow | null) => void;
  onSelect: (uid: string | null) => void;
}

const optionalNumber = (raw: string): number | undefined => (raw === "" ? undefined : Number(raw));

export function NodeInspector({ root, node, agents, issues, onEdit, onSelect }: Props) {
  const id = useId();
  const [nextAgent, setNextAgent] = useState(agents[0] ?? "");
  const change = (next: Flow) => onEdit((flow) => replaceNode(flow, node.uid, next));
  const holder = listParent(root, node.uid);
  const newAgentNode = (): Flow => ({ uid: newUid(), kind: "agent", agent: nextAgent || agents[0] || "agent" });
  return (
    <section className="card inspector" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Selected: {node.kind === "agent" ? `agent ${node.agent}` : node.kind}</h3>
      <FieldErrors id={`${id}-issues`} messages={issues} />
      {node.kind === "agent" && (
        <div className="grid2">
          <AgentSelect id={`${id}-agent`} label="Agent" value={node.agent} agents={agents} onChange={(agent) => change({ ...node, agent })} />
          <div className="field">
            <label htmlFor={`${id}-timeout`}>Timeout here (s)</label>
            <input id={`${id}-timeout`} type="number" min={1} value={node.timeout ?? ""} onChange={(e) => change({ ...node, timeout: optionalNumber(e.target.value) })} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-retries`}>Retries here</label>
            <input
              id={`${id}-retries`}
              type="number"
              min={0}
              max={20}
              value={node.retry?.retries ?? ""}
              onChange={(e) => {
                const retries = optionalNumber(e.target.value);
                change({ ...node, retry: retries === undefined ? undefined : { ...node.retry, retries } });
              }}
            />
          </div>
        </div>
      )}
      {(node.kind === "parallel" || node.kind === "foreach") && (
        <div className="grid2">
          {node.kind === "foreach" && (
            <div className="field">
              <label htmlFor={`${id}-path`}>List path</label>
              <input id={`${id}-path`} value={node.path} onChange={(e) => change({ ...node, path: e.target.value })} />
            </div>
          )}
          <div className="field">
            <label htmlFor={`${id}-maxp`}>Max parallel</label>
            <input id={`${id}-maxp`} type="number" min={1} value={node.max_parallel ?? ""} placeholder="workflow's" onChange={(e) => change({ ...node, max_parallel: optionalNumber(e.target.value) })} />
          </div>
        </div>
      )}
      {node.kind === "loop" && (
        <div className="grid2">
          <div className="field">
            <label htmlFor={`${id}-maxit`}>Max iterations</label>
            <input id={`${id}-maxit`} type="number" min={1} value={node.max_iterations} onChange={(e) => change({ ...node, max_iterations: Number(e.target.value) || 1 })} />
          </div>
          <ConditionInput id={`${id}-until`} label="Until (JSON condition)" value={node.until} onChange={(until) => change({ ...node, until })} />
        </div>
      )}
      {node.kind === "route" && <RouteEditor node={node} agents={agents} onChange={change} />}
      <div className="grid2">
        <div className="field">
          <label htmlFor={`${id}-id`}>Step id (optional)</label>
          <input id={`${id}-id`} value={node.id ?? ""} onChange={(e) => change({ ...node, id: e.target.value || undefined })} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-onerror`}>On error</label>
          <select id={`${id}-onerror`} value={node.on_error ?? ""} onChange={(e) => change({ ...node, on_error: (e.target.value || undefined) as OnError | undefined })}>
            <option value="">inherit</option>
            <option value="fail">fail the execution</option>
            <option value="continue">continue (skip the step)</option>
          </select>
        </div>
      </div>
      <div className="node-actions" role="group" aria-label="Node actions">
        <AgentSelect id={`${id}-next`} label="Agent to add" value={nextAgent} agents={agents} onChange={setNextAgent} />
        <button type="button" onClick={() => onEdit((flow) => insertAfter(flow, node.uid, newAgentNode()))}>
          Add step after
        </button>
        {(node.kind === "parallel" || node.kind === "sequence") && (
          <button type="button" onClick={() => onEdit((flow) => addChild(flow, node.uid, newAgentNode()))}>
            {node.kind === "parallel" ? "Add branch" : "Add step inside"}
          </button>
        )}
        <button type="button" disabled={!holder || holder.index === 0} onClick={() => onEdit((flow) => moveNode(flow, node.uid, -1))}>
          Move earlier
        </button>
        <button type="button" disabled={!holder || holder.index === holder.parent.children.length - 1} onClick={() => onEdit((flow) => moveNode(flow, node.uid, 1))}>
          Move later
        </button>
        <button type="button" onClick={() => onEdit((flow) => wrapNode(flow, node.uid, "parallel"))}>
          Wrap in parallel
        </button>
        <button type="button" onClick={() => onEdit((flow) => wrapNode(flow, node.uid, "loop"))}>
          Wrap in loop
        </button>
        <button type="button" onClick={() => onEdit((flow) => wrapNode(flow, node.uid, "foreach"))}>
          Wrap in for-each
        </button>
        <button
          type="button"
          onClick={() =>
            onEdit((flow) =>
              replaceNode(flow, node.uid, { uid: newUid(), kind: "route", router: agents[0], cases: [{ uid: newUid("c"), name: "first", description: "", body: node }] }),
            )
          }
        >
          Wrap in route
        </button>
        <button
          type="button"
          className="danger"
          disabled={!canRemove(root, node.uid)}
          onClick={() => {
            onEdit((flow) => removeNode(flow, node.uid));
            onSelect(null);
          }}
        >
          Delete node
        </button>
      </div>
    </section>
  );
}

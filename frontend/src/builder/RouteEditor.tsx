import { useId } from "react";
import type { RouteBy, RouteCaseFlow, RouteFlow } from "./model";
import { newUid } from "./model";
import { ConditionInput } from "./ConditionInput";
import { AgentSelect } from "./AgentSelect";

/** A route's strategy, router, cases (name, description, condition) and default. */
export function RouteEditor({ node, agents, onChange }: { node: RouteFlow; agents: string[]; onChange: (n: RouteFlow) => void }) {
  const id = useId();
  const setCase = (uid: string, patch: Partial<RouteCaseFlow>) => onChange({ ...node, cases: node.cases.map((c) => (c.uid === uid ? { ...c, ...patch } : c)) });
  const strategy = node.by ?? (node.router ? "agent" : "rules");
  return (
    <div className="route-editor">
      <div className="grid2">
        <div className="field">
          <label htmlFor={`${id}-by`}>Choose the case by</label>
          <select id={`${id}-by`} value={strategy} onChange={(e) => onChange({ ...node, by: e.target.value as RouteBy })}>
            <option value="agent">a router agent</option>
            <option value="rules">rules (first condition that holds)</option>
            <option value="skills">skill match</option>
          </select>
        </div>
        {strategy === "agent" && (
          <AgentSelect id={`${id}-router`} label="Router agent" value={node.router ?? ""} agents={agents} onChange={(router) => onChange({ ...node, router })} />
        )}
      </div>
      <h4>Cases</h4>
      <ol className="cases">
        {node.cases.map((c, i) => (
          <li key={c.uid} className="case">
            <div className="grid2">
              <div className="field">
                <label htmlFor={`${id}-c${i}-name`}>Case name</label>
                <input id={`${id}-c${i}-name`} value={c.name} onChange={(e) => setCase(c.uid, { name: e.target.value })} />
              </div>
              <div className="field">
                <label htmlFor={`${id}-c${i}-desc`}>Description</label>
                <input id={`${id}-c${i}-desc`} value={c.description} onChange={(e) => setCase(c.uid, { description: e.target.value })} />
              </div>
            </div>
            {strategy === "rules" && <ConditionInput id={`${id}-c${i}-when`} label="When (JSON condition; empty: always)" value={c.when} onChange={(when) => setCase(c.uid, { when })} />}
            <button type="button" className="danger" onClick={() => onChange({ ...node, cases: node.cases.filter((x) => x.uid !== c.uid) })}>
              Remove case {c.name}
            </button>
          </li>
        ))}
      </ol>
      <button
        type="button"
        onClick={() =>
          onChange({
            ...node,
            cases: [...node.cases, { uid: newUid("c"), name: `case_${node.cases.length + 1}`, description: "", body: { uid: newUid(), kind: "agent", agent: agents[0] ?? "agent" } }],
          })
        }
      >
        Add case
      </button>{" "}
      {node.default ? (
        <button type="button" onClick={() => onChange({ ...node, default: undefined })}>
          Remove default
        </button>
      ) : (
        <button type="button" onClick={() => onChange({ ...node, default: { uid: newUid(), kind: "agent", agent: agents[0] ?? "agent" } })}>
          Add default
        </button>
      )}
    </div>
  );
}

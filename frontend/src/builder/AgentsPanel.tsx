import type { Catalog } from "../api/types";
import { Empty } from "../components/States";
import { AgentCard } from "./AgentCard";
import type { BuilderState } from "./model";
import { newUid } from "./model";
import { appendToFlow, type BuilderActions } from "./useBuilderState";

/** The agent cards, and adding one. */
export function AgentsPanel({ state, actions, catalog, issues, used }: { state: BuilderState; actions: BuilderActions; catalog: Catalog | undefined; issues: Record<string, Record<string, string[]>>; used: Set<string> }) {
  const taken = new Set(state.agents.map((a) => a.name));
  return (
    <section className="agents" aria-labelledby="agents-title">
      <div className="page-head">
        <h2 id="agents-title">Agents</h2>
        <button type="button" onClick={() => actions.addAgent("claude")}>
          Add agent
        </button>
      </div>
      {state.agents.length === 0 && <Empty title="No agents yet: add the first one." />}
      {state.agents.map((a) => (
        <AgentCard
          key={a.uid}
          name={a.name}
          spec={a.spec}
          catalog={catalog}
          issues={issues[a.name]}
          taken={taken}
          inFlow={!state.flow || used.has(a.name)}
          onChange={(spec) => actions.updateAgent(a.name, spec)}
          onRename={(to) => actions.renameAgent(a.name, to)}
          onRemove={() => actions.removeAgent(a.name)}
          onMove={(d) => actions.moveAgent(a.name, d)}
          onAddToFlow={() => actions.editFlow((f) => appendToFlow(f, { uid: newUid(), kind: "agent", agent: a.name }))}
        />
      ))}
    </section>
  );
}

import { useId } from "react";
import { FieldErrors } from "../components/FieldErrors";
import type { BuilderState, Mode, OnError } from "./model";
import type { BuilderActions } from "./useBuilderState";

/** Execution mode (or a custom flow), max parallel, retries and what an error does. */
export function WorkflowSettings({ state, actions, fields }: { state: BuilderState; actions: BuilderActions; fields: Record<string, string[]> }) {
  const id = useId();
  const retries = state.retry?.retries;
  return (
    <section className="card settings-grid" aria-label="Execution settings">
      <div className="field">
        <label htmlFor={`${id}-mode`}>Execution mode</label>
        <select id={`${id}-mode`} value={state.flow ? "custom" : state.mode} onChange={(e) => actions.setMode(e.target.value as Mode | "custom")}>
          <option value="sequential">Sequential (agents in order)</option>
          <option value="parallel">Parallel (all at once)</option>
          <option value="conditional">Conditional (first agent routes)</option>
          <option value="custom">Custom flow (edit the graph)</option>
        </select>
        <FieldErrors id={`${id}-mode-err`} messages={fields.mode} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-maxp`}>Max parallel</label>
        <input id={`${id}-maxp`} type="number" min={1} max={1000} value={state.max_parallel} onChange={(e) => actions.set({ max_parallel: Number(e.target.value) || 1 })} />
        <FieldErrors id={`${id}-maxp-err`} messages={fields.max_parallel} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-retries`}>Retries per step</label>
        <input
          id={`${id}-retries`}
          type="number"
          min={0}
          max={20}
          value={retries ?? ""}
          placeholder={state.error_handling ?? "3 (default)"}
          onChange={(e) => {
            const value = e.target.value === "" ? undefined : Number(e.target.value);
            actions.set({ retry: value === undefined ? undefined : { ...state.retry, retries: value }, error_handling: value === undefined ? state.error_handling : undefined });
          }}
        />
        <FieldErrors id={`${id}-retry-err`} messages={[...(fields.retry ?? []), ...(fields.error_handling ?? [])]} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-onerror`}>When a step fails</label>
        <select id={`${id}-onerror`} value={state.on_error} onChange={(e) => actions.set({ on_error: e.target.value as OnError })}>
          <option value="fail">fail the execution</option>
          <option value="continue">continue without it</option>
        </select>
      </div>
    </section>
  );
}

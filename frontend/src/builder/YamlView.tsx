import { useId, useState } from "react";
import type { WorkflowDefinition } from "../api/types";
import type { BuilderState } from "./model";
import { compactDefinition, fromYaml, toYaml } from "./yaml";

/** The definition as YAML; applying edited YAML replaces the builder's state. */
export function YamlView({ definition, onApply }: { definition: WorkflowDefinition; onApply: (state: BuilderState) => void }) {
  const id = useId();
  const [compact, setCompact] = useState(true);
  const render = (hideDefaults: boolean) => toYaml((hideDefaults ? compactDefinition(definition) : definition) as WorkflowDefinition);
  const [text, setText] = useState(() => render(true));
  const [error, setError] = useState<string | null>(null);
  const [applied, setApplied] = useState(false);
  const apply = () => {
    const result = fromYaml(text);
    if (result.ok) {
      setError(null);
      setApplied(true);
      onApply(result.state);
    } else setError(result.error);
  };
  return (
    <section className="yaml-view">
      <label htmlFor={`${id}-yaml`}>Definition (YAML)</label>
      <textarea
        id={`${id}-yaml`}
        className="code"
        spellCheck={false}
        rows={24}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setApplied(false);
        }}
        aria-invalid={Boolean(error)}
      />
      <div className="row">
        <button type="button" className="primary" onClick={apply}>
          Apply YAML
        </button>
        <button type="button" onClick={() => setText(render(compact))}>
          Reset to the builder’s
        </button>
        <label className="check">
          <input
            type="checkbox"
            checked={compact}
            onChange={(e) => {
              setCompact(e.target.checked);
              setText(render(e.target.checked));
            }}
          />
          Hide default values
        </label>
        <span role="status">{applied ? "Applied." : ""}</span>
      </div>
      {error && (
        <p className="field-errors" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

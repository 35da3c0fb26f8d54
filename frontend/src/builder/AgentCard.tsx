import { useEffect, useId, useState } from "react";
import type { AgentSpec, Catalog } from "../api/types";
import { FieldErrors } from "../components/FieldErrors";
import { AGENT_NAME } from "./useBuilderState";

interface Props {
  name: string;
  spec: AgentSpec;
  catalog: Catalog | undefined;
  issues: Record<string, string[]> | undefined;
  taken: Set<string>;
  inFlow: boolean;
  onChange: (spec: AgentSpec) => void;
  onRename: (to: string) => void;
  onRemove: () => void;
  onMove: (delta: -1 | 1) => void;
  onAddToFlow: () => void;
}

type NumberField = "temperature" | "max_tokens" | "timeout";

/** One agent: role, model (from the configured providers), tools, personality, sampling, timeout. */
export function AgentCard({ name, spec, catalog, issues, taken, inFlow, onChange, onRename, onRemove, onMove, onAddToFlow }: Props) {
  const id = useId();
  const [draftName, setDraftName] = useState(name);
  useEffect(() => setDraftName(name), [name]);
  const nameProblem = draftName === name ? null : !AGENT_NAME.test(draftName) ? "letters, digits, _ and -; starting with a letter" : taken.has(draftName) ? "another agent has this name" : null;
  const set = <K extends keyof AgentSpec>(key: K, value: AgentSpec[K]) => onChange({ ...spec, [key]: value });
  const setNumber = (key: NumberField, raw: string) => {
    const value = raw === "" ? undefined : Number(raw);
    onChange({ ...spec, [key]: value } as AgentSpec);
  };
  const model = catalog?.models.find((m) => m.name === spec.model);
  const provider = model?.provider ?? spec.model?.split(":")[0];
  const keyMissing = !catalog?.model_override && catalog?.providers.some((p) => p.name === provider && !p.configured);
  const tools = spec.tools ?? [];
  const err = (field: string) => issues?.[field];
  const described = (field: string) => (err(field) ? `${id}-${field}-err` : undefined);
  return (
    <article className="card agent-card" aria-label={`Agent ${name}`}>
      <header className="agent-head">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            value={draftName}
            aria-invalid={Boolean(nameProblem)}
            onChange={(e) => setDraftName(e.target.value)}
            onBlur={() => (nameProblem || draftName === name ? setDraftName(name) : onRename(draftName))}
            onKeyDown={(e) => e.key === "Enter" && !nameProblem && draftName !== name && onRename(draftName)}
          />
          {nameProblem && <p className="field-errors">{nameProblem}</p>}
        </div>
        <div className="agent-actions">
          <button type="button" onClick={() => onMove(-1)} aria-label={`Move ${name} up`}>
            ↑
          </button>
          <button type="button" onClick={() => onMove(1)} aria-label={`Move ${name} down`}>
            ↓
          </button>
          <button type="button" className="danger" onClick={onRemove} aria-label={`Remove agent ${name}`}>
            Remove
          </button>
        </div>
      </header>
      {!inFlow && (
        <p className="hint">
          Not in the flow yet.{" "}
          <button type="button" className="link" onClick={onAddToFlow}>
            Add {name} to the flow
          </button>
        </p>
      )}
      <FieldErrors id={`${id}-_-err`} messages={err("_")} />
      <div className="grid2">
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <input id={`${id}-role`} value={spec.role} onChange={(e) => set("role", e.target.value)} aria-invalid={Boolean(err("role"))} aria-describedby={described("role")} />
          <FieldErrors id={`${id}-role-err`} messages={err("role")} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-model`}>Model</label>
          <input id={`${id}-model`} list={`${id}-models`} value={spec.model ?? ""} onChange={(e) => set("model", e.target.value)} aria-invalid={Boolean(err("model"))} aria-describedby={described("model")} />
          <datalist id={`${id}-models`}>
            {catalog?.models.map((m) => (
              <option key={m.name} value={m.name}>
                {m.target}
                {m.configured ? "" : " (no key)"}
              </option>
            ))}
          </datalist>
          {keyMissing && <p className="hint">No {provider} key is set: add one in Settings.</p>}
          <FieldErrors id={`${id}-model-err`} messages={err("model")} />
        </div>
      </div>
      <div className="field">
        <label htmlFor={`${id}-instructions`}>Instructions</label>
        <textarea id={`${id}-instructions`} rows={2} value={spec.instructions ?? ""} onChange={(e) => set("instructions", e.target.value)} />
      </div>
      <div className="grid2">
        <div className="field">
          <label htmlFor={`${id}-personality`}>Personality</label>
          <input id={`${id}-personality`} value={spec.personality ?? ""} onChange={(e) => set("personality", e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-description`}>Description (for routing)</label>
          <input id={`${id}-description`} value={spec.description ?? ""} onChange={(e) => set("description", e.target.value)} />
        </div>
      </div>
      <div className="grid3">
        {(
          [
            ["temperature", "Temperature", 0.1],
            ["max_tokens", "Max tokens", 1],
            ["timeout", "Timeout (s)", 1],
          ] as [NumberField, string, number][]
        ).map(([field, label, step]) => (
          <div className="field" key={field}>
            <label htmlFor={`${id}-${field}`}>{label}</label>
            <input
              id={`${id}-${field}`}
              type="number"
              step={step}
              value={spec[field] ?? ""}
              onChange={(e) => setNumber(field, e.target.value)}
              aria-invalid={Boolean(err(field))}
              aria-describedby={described(field)}
            />
            <FieldErrors id={`${id}-${field}-err`} messages={err(field)} />
          </div>
        ))}
      </div>
      <fieldset className="tools">
        <legend>Tools</legend>
        {catalog?.tools.length ? (
          catalog.tools.map((t) => (
            <label key={t.name} className="check" title={t.description}>
              <input
                type="checkbox"
                checked={tools.includes(t.name)}
                onChange={(e) => set("tools", e.target.checked ? [...tools, t.name] : tools.filter((x) => x !== t.name))}
              />
              {t.name}
            </label>
          ))
        ) : (
          <span className="muted">No tools registered.</span>
        )}
        <FieldErrors id={`${id}-tools-err`} messages={err("tools")} />
      </fieldset>
    </article>
  );
}

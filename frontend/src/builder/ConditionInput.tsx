import { useEffect, useState } from "react";
import type { Condition } from "../api/types";

/** A condition edited as JSON (`{"path": "$.approved", "equals": true}`); empty for none. */
export function ConditionInput({ id, label, value, onChange }: { id: string; label: string; value: Condition | undefined; onChange: (c: Condition | undefined) => void }) {
  const [text, setText] = useState(value ? JSON.stringify(value) : "");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setText(value ? JSON.stringify(value) : ""), [value]);
  const commit = () => {
    if (!text.trim()) {
      setError(null);
      onChange(undefined);
      return;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("a condition is a JSON object");
      setError(null);
      onChange(parsed as Condition);
    } catch (exc) {
      setError(exc instanceof Error ? exc.message : "not JSON");
    }
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} value={text} placeholder='{"path": "$.ok", "equals": true}' onChange={(e) => setText(e.target.value)} onBlur={commit} aria-invalid={Boolean(error)} />
      {error && (
        <p className="field-errors" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

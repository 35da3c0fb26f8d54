import { useId, useState } from "react";

/** The run input: text, or JSON when it parses and "as JSON" is ticked. */
export function RunPanel({ disabled, busy, onRun }: { disabled: boolean; busy: boolean; onRun: (input: unknown) => void }) {
  const id = useId();
  const [text, setText] = useState("");
  const [asJson, setAsJson] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = () => {
    if (!asJson) return onRun(text);
    try {
      setError(null);
      onRun(JSON.parse(text) as unknown);
    } catch {
      setError("The input is not valid JSON.");
    }
  };
  return (
    <section className="card run-panel" aria-label="Run">
      <label htmlFor={`${id}-input`}>Run input</label>
      <textarea id={`${id}-input`} rows={2} value={text} onChange={(e) => setText(e.target.value)} placeholder="What should the team work on?" />
      <label className="check">
        <input type="checkbox" checked={asJson} onChange={(e) => setAsJson(e.target.checked)} /> as JSON
      </label>
      {error && (
        <p className="field-errors" role="alert">
          {error}
        </p>
      )}
      <button type="button" className="primary" disabled={disabled || busy} onClick={run}>
        {busy ? "Starting…" : "Save and run"}
      </button>
    </section>
  );
}

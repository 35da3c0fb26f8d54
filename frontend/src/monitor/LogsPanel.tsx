import { useId, useState } from "react";
import type { LogPublic } from "../api/types";

const LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;

/** The execution's log, filtered by minimum level. */
export function LogsPanel({ logs }: { logs: LogPublic[] }) {
  const id = useId();
  const [level, setLevel] = useState<(typeof LEVELS)[number]>("DEBUG");
  const floor = LEVELS.indexOf(level);
  const shown = logs.filter((l) => LEVELS.indexOf(l.level as (typeof LEVELS)[number]) >= floor);
  return (
    <section aria-labelledby={`${id}-title`}>
      <div className="page-head">
        <h2 id={`${id}-title`}>Logs</h2>
        <label htmlFor={`${id}-level`}>Level</label>
        <select id={`${id}-level`} value={level} onChange={(e) => setLevel(e.target.value as (typeof LEVELS)[number])}>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {l} and above
            </option>
          ))}
        </select>
      </div>
      {shown.length === 0 ? (
        <p className="muted">No log lines{logs.length ? " at this level" : " yet"}.</p>
      ) : (
        <ol className="logs" tabIndex={0} aria-label="Log lines">
          {shown.map((l) => (
            <li key={l.seq} className={`log log-${l.level.toLowerCase()}`}>
              <time>{new Date(l.time * 1000).toLocaleTimeString()}</time>
              <span className="log-level">{l.level}</span>
              {l.step_id && <span className="log-step">{l.step_id}</span>}
              <span className="log-message">{l.message}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** The per-step timeline (a Gantt chart): one bar per step from its start to its end. */
import type { StepPublic } from "../api/types";
import { formatDuration } from "../components/format";

export function Timeline({ steps, now, selected, onSelect }: { steps: StepPublic[]; now: number; selected: string | null; onSelect: (id: string) => void }) {
  if (steps.length === 0) return <p className="muted">No steps have started yet.</p>;
  const start = Math.min(...steps.map((s) => s.started_at));
  const end = Math.max(...steps.map((s) => s.ended_at ?? now), start + 0.001);
  const span = end - start;
  return (
    <ol className="gantt" aria-label="Step timeline">
      {steps.map((s) => {
        const left = ((s.started_at - start) / span) * 100;
        const width = Math.max((((s.ended_at ?? now) - s.started_at) / span) * 100, 0.8);
        return (
          <li key={s.step_id}>
            <button type="button" className={`gantt-row${selected === s.step_id ? " is-selected" : ""}`} aria-pressed={selected === s.step_id} onClick={() => onSelect(s.step_id)}>
              <span className="gantt-label">{s.step_id}</span>
              <span className="gantt-track" aria-hidden="true">
                <span className={`gantt-bar status-${s.status}`} style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }} />
              </span>
              <span className="gantt-time">
                {s.status} · {formatDuration(s.duration ?? (s.ended_at ? s.ended_at - s.started_at : now - s.started_at))}
              </span>
            </button>
          </li>
        );
      })}
    </ol>
  );
}

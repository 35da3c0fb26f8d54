/** One execution, live: status, graph, timeline, steps, logs; cancel while it runs. */
import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { TERMINAL } from "../api/types";
import { formatCost, formatDuration, formatNumber, formatTime } from "../components/format";
import { Pre } from "../components/Pre";
import { ErrorState, Loading, errorMessage } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { LogsPanel } from "./LogsPanel";
import { RunGraph } from "./RunGraph";
import { StepDetails } from "./StepDetails";
import { Timeline } from "./Timeline";
import { useExecutionLive } from "./useExecutionLive";

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now() / 1000);
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => setNow(Date.now() / 1000), 500);
    return () => window.clearInterval(timer);
  }, [active]);
  return now;
}

export function ExecutionPage() {
  const { id = "" } = useParams();
  const { initial, execution, steps, logs, streaming, streamError } = useExecutionLive(id);
  const [selected, setSelected] = useState<string | null>(null);
  const running = Boolean(execution && !TERMINAL.includes(execution.status));
  const now = useNow(running);
  const cancel = useMutation({
    mutationFn: async () => unwrap(await api.POST("/executions/{execution_id}/cancel", { params: { path: { execution_id: id } } })),
    onSuccess: () => void initial.refetch(),
  });
  if (initial.isPending && !execution) return <Loading label="Loading the execution…" />;
  if (initial.isError && !execution) return <ErrorState error={initial.error} onRetry={() => void initial.refetch()} />;
  if (!execution) return null;
  const step = steps.find((s) => s.step_id === selected);
  const duration = execution.duration ?? (execution.started_at ? (execution.ended_at ?? now) - execution.started_at : null);
  return (
    <section className="execution" aria-labelledby="exec-title">
      <div className="page-head">
        <h1 id="exec-title">
          Execution of <Link to={`/builder/${execution.workflow_id}`}>{execution.workflow_name}</Link>
        </h1>
        <span data-testid="execution-status" aria-live="polite">
          <StatusBadge status={execution.status} />
        </span>
        {running && (
          <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
            {cancel.isPending ? "Cancelling…" : "Cancel"}
          </button>
        )}
      </div>
      {cancel.isError && <p role="alert">Could not cancel: {errorMessage(cancel.error)}</p>}
      <dl className="facts facts-row">
        <dt>Started</dt>
        <dd>{formatTime(execution.started_at ?? execution.created_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(duration)}</dd>
        <dt>Steps</dt>
        <dd>{steps.length}</dd>
        <dt>Tokens</dt>
        <dd>{formatNumber(execution.input_tokens + execution.output_tokens)}</dd>
        <dt>Cost</dt>
        <dd>{formatCost(execution.cost)}</dd>
        <dt>Live</dt>
        <dd>{streaming ? "following events" : streamError ? `stopped: ${streamError}` : "finished"}</dd>
      </dl>
      {execution.error && (
        <div role="alert" className="step-error">
          <Pre value={execution.error} label="Execution error" />
        </div>
      )}
      <RunGraph workflowId={execution.workflow_id} steps={steps} onSelectStep={setSelected} />
      <div className="exec-grid">
        <section aria-labelledby="timeline-title">
          <h2 id="timeline-title">Timeline</h2>
          <Timeline steps={steps} now={now} selected={selected} onSelect={setSelected} />
          <h2>Output</h2>
          <Pre value={execution.output} label="Execution output" />
        </section>
        <div>{step ? <StepDetails step={step} /> : <p className="muted">Select a step in the timeline or the graph to see its input, output and tool calls.</p>}</div>
      </div>
      <LogsPanel logs={logs} />
    </section>
  );
}

/** One step: input, output, tool calls, tokens, cost, model, attempts and error. */
import type { StepPublic } from "../api/types";
import { formatCost, formatDuration, formatNumber } from "../components/format";
import { Pre } from "../components/Pre";
import { StatusBadge } from "../components/StatusBadge";

export function StepDetails({ step }: { step: StepPublic }) {
  return (
    <section className="card step-details" aria-label={`Step ${step.step_id}`}>
      <h3>
        Step {step.step_id} <StatusBadge status={step.status} />
      </h3>
      <dl className="facts">
        <dt>Agent</dt>
        <dd>
          {step.agent} ({step.role})
        </dd>
        <dt>Model</dt>
        <dd>{step.model || "–"}</dd>
        <dt>Attempts</dt>
        <dd>{step.attempts}</dd>
        <dt>Tokens</dt>
        <dd>
          {formatNumber(step.input_tokens + step.output_tokens)} ({formatNumber(step.input_tokens)} in / {formatNumber(step.output_tokens)} out)
        </dd>
        <dt>Cost</dt>
        <dd>{formatCost(step.cost)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(step.duration)}</dd>
      </dl>
      {step.error && (
        <div role="alert" className="step-error">
          <h4>Error</h4>
          <Pre value={step.error} label="Step error" />
        </div>
      )}
      <h4>Input</h4>
      <Pre value={step.input} label="Step input" />
      <h4>Output</h4>
      <Pre value={step.output} label="Step output" />
      <h4>Tool calls ({step.tool_calls.length})</h4>
      {step.tool_calls.length ? <Pre value={step.tool_calls} label="Tool calls" /> : <p className="muted">No tool calls.</p>}
    </section>
  );
}

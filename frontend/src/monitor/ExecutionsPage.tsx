/** Executions: status, workflow, start, duration, tokens, cost; filters; auto-refresh. */
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { keys, useWorkflows } from "../api/queries";
import type { ExecutionStatus } from "../api/types";
import { formatCost, formatDuration, formatNumber, formatTime } from "../components/format";
import { Empty, ErrorState, Loading } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";

const STATUSES: ExecutionStatus[] = ["queued", "running", "succeeded", "failed", "cancelled", "timed_out"];

export function ExecutionsPage() {
  const id = useId();
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") ?? "") as ExecutionStatus | "";
  const workflow = params.get("workflow") ?? "";
  const [auto, setAuto] = useState(true);
  const workflows = useWorkflows();
  const filters = { status, workflow };
  const executions = useInfiniteQuery({
    queryKey: keys.executions(filters),
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/executions", {
          params: { query: { limit: 25, ...(status ? { status } : {}), ...(workflow ? { workflow_id: workflow } : {}), ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: auto ? 3000 : false,
    placeholderData: keepPreviousData,
  });
  const setFilter = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const items = executions.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby={`${id}-title`}>
      <div className="page-head">
        <h1 id={`${id}-title`}>Executions</h1>
      </div>
      <div className="toolbar">
        <label htmlFor={`${id}-status`}>Status</label>
        <select id={`${id}-status`} value={status} onChange={(e) => setFilter("status", e.target.value)}>
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-workflow`}>Workflow</label>
        <select id={`${id}-workflow`} value={workflow} onChange={(e) => setFilter("workflow", e.target.value)}>
          <option value="">any</option>
          {workflows.data?.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
        <label className="check">
          <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} /> Auto-refresh
        </label>
        <button type="button" onClick={() => void executions.refetch()}>
          Refresh
        </button>
      </div>
      {executions.isPending ? (
        <Loading />
      ) : executions.isError ? (
        <ErrorState error={executions.error} onRetry={() => void executions.refetch()} />
      ) : items.length === 0 ? (
        <Empty title={status || workflow ? "No execution matches these filters." : "No executions yet."}>
          <Link to="/">Run a workflow from its builder</Link>
        </Empty>
      ) : (
        <>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Workflow</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Tokens</th>
                <th scope="col">Cost</th>
                <th scope="col">
                  <span className="sr-only">Open</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.execution_id}>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td>{e.workflow_name}</td>
                  <td>{formatTime(e.started_at ?? e.created_at)}</td>
                  <td>{formatDuration(e.duration)}</td>
                  <td>{formatNumber(e.input_tokens + e.output_tokens)}</td>
                  <td>{formatCost(e.cost)}</td>
                  <td>
                    <Link to={`/runs/${e.execution_id}`} aria-label={`Open execution ${e.execution_id.slice(0, 8)} of ${e.workflow_name}`}>
                      Open
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {executions.hasNextPage && (
            <button type="button" onClick={() => void executions.fetchNextPage()} disabled={executions.isFetchingNextPage}>
              {executions.isFetchingNextPage ? "Loading…" : "Load more"}
            </button>
          )}
        </>
      )}
    </section>
  );
}

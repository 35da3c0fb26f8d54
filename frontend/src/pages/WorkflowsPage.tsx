import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, unwrap } from "../api/client";
import { useWorkflows } from "../api/queries";
import type { WorkflowDefinition, WorkflowPublic } from "../api/types";
import { formatTime } from "../components/format";
import { Empty, ErrorState, Loading, errorMessage } from "../components/States";

function copyName(name: string, taken: Set<string>): string {
  for (let i = 1; ; i += 1) {
    const candidate = `${name}-copy${i > 1 ? `-${i}` : ""}`.slice(0, 80);
    if (!taken.has(candidate)) return candidate;
  }
}

export function WorkflowsPage() {
  const [q, setQ] = useState("");
  const workflows = useWorkflows(q.trim());
  const client = useQueryClient();
  const navigate = useNavigate();
  const [notice, setNotice] = useState<string | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ["workflows"] });

  const duplicate = useMutation({
    mutationFn: async (w: WorkflowPublic) => {
      const taken = new Set((workflows.data ?? []).map((x) => x.name));
      const body = { ...w.definition, name: copyName(w.name, taken) } as unknown as WorkflowDefinition;
      return unwrap(await api.POST("/workflows/", { body }));
    },
    onSuccess: (w) => {
      setNotice(`Duplicated as ${w.name}.`);
      void refresh();
    },
    onError: (e) => setNotice(`Could not duplicate: ${errorMessage(e)}`),
  });
  const remove = useMutation({
    mutationFn: async (w: WorkflowPublic) => {
      unwrap(await api.DELETE("/workflows/{workflow_id}", { params: { path: { workflow_id: w.id } } }));
      return w;
    },
    onSuccess: (w) => {
      setNotice(`Deleted ${w.name}.`);
      void refresh();
    },
    onError: (e) => setNotice(`Could not delete: ${errorMessage(e)}`),
  });

  return (
    <section aria-labelledby="workflows-title">
      <div className="page-head">
        <h1 id="workflows-title">Workflows</h1>
        <button type="button" className="primary" onClick={() => navigate("/builder/new")}>
          New workflow
        </button>
      </div>
      <div className="toolbar">
        <label htmlFor="wf-search">Search</label>
        <input id="wf-search" type="search" placeholder="name or description" value={q} onChange={(e) => setQ(e.target.value)} />
      </div>
      <p role="status" className="notice">
        {notice}
      </p>
      {workflows.isPending ? (
        <Loading />
      ) : workflows.isError ? (
        <ErrorState error={workflows.error} onRetry={() => void workflows.refetch()} />
      ) : workflows.data.length === 0 ? (
        <Empty title={q ? `No workflow matches “${q}”.` : "No workflows yet."}>
          <Link to="/builder/new">Build your first workflow</Link>
        </Empty>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Agents</th>
              <th scope="col">Version</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {workflows.data.map((w) => (
              <tr key={w.id}>
                <td>
                  <Link to={`/builder/${w.id}`}>{w.name}</Link>
                </td>
                <td className="muted">{w.description}</td>
                <td>{Object.keys((w.definition.agents as object | undefined) ?? {}).length}</td>
                <td>{w.version}</td>
                <td>{formatTime(w.updated_at)}</td>
                <td>
                  <div className="actions">
                  <Link to={`/runs?workflow=${w.id}`}>Runs</Link>
                  <button type="button" onClick={() => duplicate.mutate(w)} disabled={duplicate.isPending} aria-label={`Duplicate ${w.name}`}>
                    Duplicate
                  </button>
                  <button
                    type="button"
                    className="danger"
                    aria-label={`Delete ${w.name}`}
                    disabled={remove.isPending}
                    onClick={() => {
                      if (window.confirm(`Delete the workflow ${w.name}? Its executions stay recorded.`)) remove.mutate(w);
                    }}
                  >
                    Delete
                  </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The workflow builder (the spec's WorkflowBuilder): agents, flow, settings, YAML, ASL, run. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { ApiError, api, unwrap } from "../api/client";
import { keys, useCatalog, useWorkflow } from "../api/queries";
import type { WorkflowPublic } from "../api/types";
import { FieldErrors } from "../components/FieldErrors";
import { ErrorState, Loading, errorMessage } from "../components/States";
import { Tabs } from "../components/Tabs";
import { AgentsPanel } from "./AgentsPanel";
import { AslView } from "./AslView";
import { effectiveFlow, fromDefinition, toDefinition } from "./convert";
import { FlowEditor } from "./FlowEditor";
import { IssuesPanel } from "./IssuesPanel";
import { type BuilderState, emptyState } from "./model";
import { agentsUsed } from "./ops";
import { RunPanel } from "./RunPanel";
import { useBuilderState } from "./useBuilderState";
import { useValidation } from "./useValidation";
import { placeIssues } from "./validation";
import { WorkflowSettings } from "./WorkflowSettings";
import { YamlView } from "./YamlView";

export function BuilderPage() {
  const { id } = useParams();
  const workflow = useWorkflow(id);
  if (id && workflow.isPending) return <Loading label="Loading the workflow…" />;
  if (id && workflow.isError) return <ErrorState error={workflow.error} onRetry={() => void workflow.refetch()} />;
  const saved = id ? workflow.data : undefined;
  const initial = saved ? fromDefinition(saved.definition) : emptyState();
  return <BuilderEditor key={id ?? "new"} workflowId={id} version={saved?.version ?? 0} initial={initial} />;
}

type TabId = "design" | "yaml" | "asl";

function BuilderEditor({ workflowId, version: loadedVersion, initial }: { workflowId: string | undefined; version: number; initial: BuilderState }) {
  const id = useId();
  const navigate = useNavigate();
  const client = useQueryClient();
  const catalog = useCatalog();
  const { state, dirty, actions } = useBuilderState(initial);
  const [tab, setTab] = useState<TabId>("design");
  const [version, setVersion] = useState(loadedVersion);
  const [notice, setNotice] = useState<string | null>(null);
  const definition = useMemo(() => toDefinition(state), [state]);
  const validation = useValidation(definition);
  const placed = useMemo(() => placeIssues(validation.issues, state), [validation.issues, state]);
  const used = useMemo(() => agentsUsed(effectiveFlow(state)), [state]);

  const save = useMutation({
    mutationFn: async (): Promise<WorkflowPublic> =>
      workflowId
        ? unwrap(await api.PUT("/workflows/{workflow_id}", { params: { path: { workflow_id: workflowId } }, body: { version, definition } }))
        : unwrap(await api.POST("/workflows/", { body: definition })),
    onSuccess: (w) => {
      setVersion(w.version);
      actions.markSaved();
      setNotice(`Saved ${w.name} (version ${w.version}).`);
      client.setQueryData(keys.workflow(w.id), w);
      void client.invalidateQueries({ queryKey: ["workflows"] });
      if (!workflowId) navigate(`/builder/${w.id}`, { replace: true });
    },
    onError: (e) => setNotice(`Not saved: ${errorMessage(e)}`),
  });
  const run = useMutation({
    mutationFn: async (input: unknown) => {
      const target = workflowId && !dirty ? workflowId : (await save.mutateAsync()).id;
      return unwrap(await api.POST("/workflows/{workflow_id}/execute", { params: { path: { workflow_id: target } }, body: { input_data: input } }));
    },
    onSuccess: (accepted) => navigate(`/runs/${accepted.execution_id}`),
    onError: (e) => setNotice(`Could not run: ${errorMessage(e)}`),
  });
  const saveIssues = save.error instanceof ApiError && save.error.status === 422 ? save.error.issues : [];

  return (
    <section className="builder" aria-labelledby={`${id}-title`}>
      <div className="page-head">
        <h1 id={`${id}-title`}>{workflowId ? `Workflow ${initial.name}` : "New workflow"}</h1>
        <span className="muted" role="status">
          {dirty ? "Unsaved changes" : workflowId ? `Saved · version ${version}` : ""}
        </span>
        <button type="button" className="primary" disabled={save.isPending || validation.state === "invalid"} onClick={() => save.mutate()}>
          {save.isPending ? "Saving…" : "Save"}
        </button>
      </div>
      <p className="notice" role="status">
        {notice}
      </p>
      {saveIssues.length > 0 && <FieldErrors id={`${id}-save-err`} messages={saveIssues.map((i) => `${i.path}: ${i.message}`)} />}
      <div className="grid2 head-fields">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={state.name} onChange={(e) => actions.set({ name: e.target.value })} aria-invalid={Boolean(placed.fields.name)} aria-describedby={placed.fields.name ? `${id}-name-err` : undefined} />
          <FieldErrors id={`${id}-name-err`} messages={placed.fields.name} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-desc`}>Description</label>
          <input id={`${id}-desc`} value={state.description} onChange={(e) => actions.set({ description: e.target.value })} />
        </div>
      </div>
      <Tabs<TabId>
        label="Builder views"
        current={tab}
        onChange={setTab}
        tabs={[
          { id: "design", label: "Design" },
          { id: "yaml", label: "YAML" },
          { id: "asl", label: "Step Functions" },
        ]}
      />
      <div role="tabpanel" aria-label={tab}>
        {tab === "design" && (
          <div className="builder-grid">
            <AgentsPanel state={state} actions={actions} catalog={catalog.data} issues={placed.agents} used={used} />
            <div className="builder-main">
              <IssuesPanel validation={validation} placed={placed} />
              <WorkflowSettings state={state} actions={actions} fields={placed.fields} />
              <FlowEditor state={state} actions={actions} nodeIssues={placed.nodes} />
              <RunPanel disabled={validation.state === "invalid" || state.agents.length === 0} busy={run.isPending} onRun={(input) => run.mutate(input)} />
            </div>
          </div>
        )}
        {tab === "yaml" && (
          <YamlView
            definition={definition}
            onApply={(next) => {
              actions.replace(next);
              setNotice("The YAML was applied to the builder.");
            }}
          />
        )}
        {tab === "asl" && <AslView workflowId={workflowId} version={version} dirty={dirty} />}
      </div>
    </section>
  );
}

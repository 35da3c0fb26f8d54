/** The workflow's graph with each node coloured by its steps' status. */
import { useCallback, useMemo } from "react";
import { useWorkflow } from "../api/queries";
import type { StepPublic } from "../api/types";
import { effectiveFlow, fromDefinition } from "../builder/convert";
import { flowToGraph, type GraphNode } from "../builder/graph";
import { FlowCanvas } from "../components/FlowCanvas";
import { Loading } from "../components/States";
import { statusByStep } from "./status";
import { baseStepId } from "../builder/walk";

export function RunGraph({ workflowId, steps, onSelectStep }: { workflowId: string; steps: StepPublic[]; onSelectStep: (id: string) => void }) {
  const workflow = useWorkflow(workflowId);
  const graph = useMemo(() => {
    if (!workflow.data) return null;
    try {
      const state = fromDefinition(workflow.data.definition);
      return flowToGraph(effectiveFlow(state), Object.fromEntries(state.agents.map((a) => [a.name, a.spec.role])));
    } catch {
      return null;
    }
  }, [workflow.data]);
  const statuses = useMemo(() => statusByStep(steps), [steps]);
  const statusOf = useCallback((n: GraphNode) => (n.stepId ? statuses.get(n.stepId) : undefined), [statuses]);
  if (workflow.isPending) return <Loading label="Loading the graph…" />;
  if (!graph) return <p className="muted">The workflow’s graph is not available (was it deleted?).</p>;
  return (
    <FlowCanvas
      graph={graph}
      label="Execution graph coloured by step status"
      statusOf={statusOf}
      height={300}
      onSelect={(uid) => {
        const node = graph.nodes.find((n) => n.uid === uid && n.stepId);
        const step = node && steps.find((s) => baseStepId(s.step_id) === node.stepId);
        if (step) onSelectStep(step.step_id);
      }}
    />
  );
}

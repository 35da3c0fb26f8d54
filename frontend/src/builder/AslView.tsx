import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { keys } from "../api/queries";
import { Pre } from "../components/Pre";
import { Empty, ErrorState, Loading } from "../components/States";

/** The saved version compiled to Amazon States Language (GET /workflows/{id}/asl). */
export function AslView({ workflowId, version, dirty }: { workflowId: string | undefined; version: number; dirty: boolean }) {
  const asl = useQuery({
    queryKey: keys.asl(workflowId ?? "", version),
    queryFn: async () => unwrap(await api.GET("/workflows/{workflow_id}/asl", { params: { path: { workflow_id: workflowId ?? "" } } })),
    enabled: Boolean(workflowId),
  });
  if (!workflowId) return <Empty title="Save the workflow to see its Step Functions definition." />;
  if (asl.isPending) return <Loading label="Compiling…" />;
  if (asl.isError) return <ErrorState error={asl.error} onRetry={() => void asl.refetch()} />;
  return (
    <section>
      {dirty && <p className="hint">This is the saved version {version}; save to compile your changes.</p>}
      <Pre value={asl.data} label="Step Functions definition (ASL)" />
    </section>
  );
}

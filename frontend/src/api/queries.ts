/** TanStack Query hooks over the generated client: one place for keys and shared reads. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import type { Catalog, ExecutionPublic, Usage, WorkflowPublic } from "./types";

export const keys = {
  workflows: (q = "") => ["workflows", q] as const,
  workflow: (id: string) => ["workflow", id] as const,
  asl: (id: string, version: number) => ["asl", id, version] as const,
  catalog: ["catalog"] as const,
  executions: (filters: object) => ["executions", filters] as const,
  execution: (id: string) => ["execution", id] as const,
  usage: (start: string, end: string) => ["usage", start, end] as const,
  providerKeys: ["provider-keys"] as const,
  apiKeys: ["api-keys"] as const,
};

export function useWorkflows(q = "") {
  return useQuery({
    queryKey: keys.workflows(q),
    queryFn: async (): Promise<WorkflowPublic[]> =>
      unwrap(await api.GET("/workflows/", { params: { query: q ? { q } : {} } })),
    placeholderData: keepPreviousData,
  });
}

export function useWorkflow(id: string | undefined) {
  return useQuery({
    queryKey: keys.workflow(id ?? ""),
    queryFn: async (): Promise<WorkflowPublic> =>
      unwrap(await api.GET("/workflows/{workflow_id}", { params: { path: { workflow_id: id ?? "" } } })),
    enabled: Boolean(id),
  });
}

export function useCatalog() {
  return useQuery({
    queryKey: keys.catalog,
    queryFn: async (): Promise<Catalog> => unwrap(await api.GET("/catalog")),
    staleTime: 60_000,
  });
}

export function useExecution(id: string) {
  return useQuery({
    queryKey: keys.execution(id),
    queryFn: async (): Promise<ExecutionPublic> =>
      unwrap(await api.GET("/executions/{execution_id}", { params: { path: { execution_id: id } } })),
  });
}

export function useUsage(start: string, end: string) {
  return useQuery({
    queryKey: keys.usage(start, end),
    queryFn: async (): Promise<Usage> => unwrap(await api.GET("/usage", { params: { query: { start, end } } })) as unknown as Usage,
    placeholderData: keepPreviousData,
  });
}

/** Live validation: the definition is checked by POST /workflows/validate shortly after each edit. */
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ApiError, api, toApiError } from "../api/client";
import type { Issue, WorkflowDefinition } from "../api/types";

export interface Validation {
  state: "checking" | "valid" | "invalid" | "error";
  issues: Issue[];
  steps?: number;
  error?: string;
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export function useValidation(definition: WorkflowDefinition, delay = 400): Validation {
  const body = JSON.stringify(definition);
  const debounced = useDebounced(body, delay);
  const query = useQuery({
    queryKey: ["validate", debounced],
    queryFn: async (): Promise<Validation> => {
      const result = await api.POST("/workflows/validate", { body: JSON.parse(debounced) as WorkflowDefinition });
      if (result.response.ok) {
        const data = result.data as { steps?: number };
        return { state: "valid", issues: [], steps: data.steps };
      }
      const error = toApiError(result.error, result.response);
      if (error.status === 422) {
        const issues = error.issues.length ? error.issues : [{ path: "definition", message: error.message }];
        return { state: "invalid", issues };
      }
      throw error;
    },
    staleTime: Infinity,
    retry: false,
  });
  if (query.isError) return { state: "error", issues: [], error: query.error instanceof ApiError ? query.error.message : String(query.error) };
  if (!query.data || debounced !== body) return { state: "checking", issues: query.data?.issues ?? [] };
  return query.data;
}

/** An execution kept live by its server-sent events (steps, logs, status). */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { keys, useExecution } from "../api/queries";
import { streamEvents } from "../api/events";
import type { ExecutionPublic, LogPublic, StepPublic } from "../api/types";
import { TERMINAL } from "../api/types";

interface Live {
  execution?: ExecutionPublic;
  steps: Record<string, StepPublic>;
  logs: LogPublic[];
  streaming: boolean;
  streamError?: string;
}

export function useExecutionLive(id: string) {
  const initial = useExecution(id);
  const client = useQueryClient();
  const [live, setLive] = useState<Live>({ steps: {}, logs: [], streaming: true });
  useEffect(() => {
    const controller = new AbortController();
    setLive({ steps: {}, logs: [], streaming: true });
    streamEvents(
      `/executions/${id}/events`,
      ({ event, data }) => {
        setLive((s) => {
          if (event === "step") {
            const step = data as StepPublic;
            return { ...s, steps: { ...s.steps, [step.step_id]: step } };
          }
          if (event === "log") return { ...s, logs: [...s.logs, data as LogPublic] };
          if (event === "execution") return { ...s, execution: data as ExecutionPublic };
          return s;
        });
      },
      controller.signal,
    )
      .then(() => {
        setLive((s) => ({ ...s, streaming: false }));
        void client.invalidateQueries({ queryKey: keys.execution(id) });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setLive((s) => ({ ...s, streaming: false, streamError: error instanceof Error ? error.message : String(error) }));
      });
    return () => controller.abort();
  }, [id, client]);

  const execution = useMemo(() => {
    if (!initial.data) return live.execution;
    if (!live.execution) return initial.data;
    // the fresher of the two: a terminal record wins over a running one
    const liveDone = TERMINAL.includes(live.execution.status);
    const initialDone = TERMINAL.includes(initial.data.status);
    return initialDone || !liveDone ? { ...live.execution, ...initial.data } : { ...initial.data, ...live.execution };
  }, [initial.data, live.execution]);
  const steps = useMemo(() => {
    const merged: Record<string, StepPublic> = {};
    for (const s of initial.data?.step_records ?? []) merged[s.step_id] = s;
    for (const s of Object.values(live.steps)) {
      const known = merged[s.step_id];
      if (!known || !TERMINAL.includes(known.status) || TERMINAL.includes(s.status)) merged[s.step_id] = s;
    }
    return Object.values(merged).sort((a, b) => a.started_at - b.started_at);
  }, [initial.data, live.steps]);
  return { initial, execution, steps, logs: live.logs, streaming: live.streaming, streamError: live.streamError };
}

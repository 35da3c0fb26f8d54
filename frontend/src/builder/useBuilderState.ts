/** The builder's state and its edits (agents, mode, flow), with a dirty flag. */
import { useCallback, useState } from "react";
import type { AgentSpec } from "../api/types";
import { effectiveFlow } from "./convert";
import { type BuilderState, type Flow, type Mode, defaultAgent, newUid } from "./model";
import { addChild, renameAgent as renameInFlow } from "./ops";

export const AGENT_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** Add `node` at the end of the flow (inside the root sequence, or after the root). */
export function appendToFlow(flow: Flow, node: Flow): Flow {
  if (flow.kind === "sequence") return addChild(flow, flow.uid, node);
  return { uid: newUid(), kind: "sequence", children: [flow, node] };
}

export function uniqueAgentName(state: BuilderState, base = "agent"): string {
  const taken = new Set(state.agents.map((a) => a.name));
  for (let i = state.agents.length + 1; ; i += 1) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}

export function useBuilderState(initial: BuilderState) {
  const [state, setState] = useState(initial);
  const [dirty, setDirty] = useState(false);
  const update = useCallback((fn: (s: BuilderState) => BuilderState) => {
    setState(fn);
    setDirty(true);
  }, []);

  const actions = {
    set: (patch: Partial<BuilderState>) => update((s) => ({ ...s, ...patch })),
    replace: (next: BuilderState) => update(() => next),
    markSaved: (next?: BuilderState) => {
      if (next) setState(next);
      setDirty(false);
    },
    addAgent: (model: string): string => {
      const name = uniqueAgentName(state);
      update((s) => {
        const agents = [...s.agents, { uid: newUid("a"), name, spec: defaultAgent(`Agent ${s.agents.length + 1}`, model) }];
        const flow = s.flow ? appendToFlow(s.flow, { uid: newUid(), kind: "agent", agent: name }) : null;
        return { ...s, agents, flow };
      });
      return name;
    },
    updateAgent: (name: string, spec: AgentSpec) =>
      update((s) => ({ ...s, agents: s.agents.map((a) => (a.name === name ? { ...a, spec } : a)) })),
    renameAgent: (from: string, to: string) =>
      update((s) => ({
        ...s,
        agents: s.agents.map((a) => (a.name === from ? { ...a, name: to } : a)),
        flow: s.flow ? renameInFlow(s.flow, from, to) : null,
      })),
    removeAgent: (name: string) => update((s) => ({ ...s, agents: s.agents.filter((a) => a.name !== name) })),
    moveAgent: (name: string, delta: -1 | 1) =>
      update((s) => {
        const agents = [...s.agents];
        const i = agents.findIndex((a) => a.name === name);
        const j = i + delta;
        if (i < 0 || j < 0 || j >= agents.length) return s;
        [agents[i], agents[j]] = [agents[j]!, agents[i]!];
        return { ...s, agents };
      }),
    setMode: (mode: Mode | "custom") =>
      update((s) => (mode === "custom" ? { ...s, flow: effectiveFlow(s) } : { ...s, mode, flow: null })),
    /** Edit the flow (a mode-implied flow becomes a custom one first). */
    editFlow: (fn: (flow: Flow) => Flow | null) =>
      update((s) => {
        const next = fn(effectiveFlow(s));
        return { ...s, flow: next ?? { uid: newUid(), kind: "sequence", children: [] } };
      }),
  };
  return { state, dirty, actions };
}

export type BuilderActions = ReturnType<typeof useBuilderState>["actions"];

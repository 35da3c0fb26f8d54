import { act, renderHook } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { fromDefinition, toDefinition } from "./convert";
import { emptyState } from "./model";
import { useBuilderState } from "./useBuilderState";

describe("builder state", () => {
  it("adds agents to the mode's flow, then to a custom flow", () => {
    const { result } = renderHook(() => useBuilderState(emptyState()));
    act(() => void result.current.actions.addAgent("claude"));
    act(() => void result.current.actions.addAgent("gpt"));
    expect(result.current.dirty).toBe(true);
    expect(toDefinition(result.current.state).flow).toBeUndefined(); // sequential mode, no flow
    act(() => result.current.actions.setMode("custom"));
    act(() => void result.current.actions.addAgent("test"));
    expect(toDefinition(result.current.state).flow).toEqual({ sequence: ["agent_1", "agent_2", "agent_3"] });
    expect(result.current.state.agents.map((a) => a.spec.model)).toEqual(["claude", "gpt", "test"]);
  });

  it("renames an agent everywhere the flow uses it", () => {
    const initial = fromDefinition({
      name: "t",
      agents: { triage: { role: "T" }, a: { role: "A" } },
      flow: { route: { router: "triage", cases: [{ name: "x", do: "a" }], default: "a" } },
    });
    const { result } = renderHook(() => useBuilderState(initial));
    act(() => result.current.actions.renameAgent("a", "alpha"));
    act(() => result.current.actions.renameAgent("triage", "desk"));
    const definition = toDefinition(result.current.state);
    expect(Object.keys(definition.agents)).toEqual(["desk", "alpha"]);
    expect(definition.flow).toEqual({ route: { router: "desk", cases: [{ name: "x", description: "", do: "alpha" }], default: "alpha" } });
  });

  it("goes back to a mode, dropping the custom flow", () => {
    const { result } = renderHook(() => useBuilderState(fromDefinition({ name: "t", agents: { a: { role: "A" } }, flow: { loop: "a" } })));
    act(() => result.current.actions.setMode("parallel"));
    const definition = toDefinition(result.current.state);
    expect(definition.flow).toBeUndefined();
    expect(definition.mode).toBe("parallel");
  });
});

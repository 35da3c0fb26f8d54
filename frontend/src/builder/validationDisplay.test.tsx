import { render, screen, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Catalog } from "../api/types";
import { AgentCard } from "./AgentCard";
import { fromDefinition } from "./convert";
import { FlowOutline } from "./FlowOutline";
import { IssuesPanel } from "./IssuesPanel";
import { defaultAgent } from "./model";
import { placeIssues } from "./validation";

const catalog: Catalog = {
  models: [{ name: "claude", target: "anthropic:claude-sonnet-5-5", provider: "anthropic", configured: false }],
  providers: [{ name: "anthropic", needs_key: true, configured: false }],
  tools: [{ name: "web_search", description: "Search the web", parameters: {} }],
  model_override: null,
};

const noop = vi.fn();

describe("validation display", () => {
  const state = fromDefinition({
    name: "bad name!",
    agents: { writer: { role: "Writer" } },
    flow: { sequence: ["writer", "ghost"] },
  });
  const issues = [
    { path: "name", message: "String should match pattern" },
    { path: "agents.writer.temperature", message: "Input should be less than or equal to 2" },
    { path: "flow.sequence[1]", message: "unknown agent 'ghost' (known: writer)" },
  ];
  const placed = placeIssues(issues, state);

  it("lists every problem and says where they are marked", () => {
    render(<IssuesPanel validation={{ state: "invalid", issues }} placed={placed} />);
    const panel = screen.getByRole("region", { name: "Validation" });
    expect(panel).toHaveTextContent("3 problems to fix (marked on the fields and nodes)");
    expect(within(panel).getAllByRole("listitem")).toHaveLength(3);
  });

  it("shows a valid definition and a failed check", () => {
    const { rerender } = render(<IssuesPanel validation={{ state: "valid", issues: [], steps: 2 }} placed={placeIssues([], state)} />);
    expect(screen.getByText("✓ Valid · 2 agent steps")).toBeTruthy();
    rerender(<IssuesPanel validation={{ state: "error", issues: [], error: "offline" }} placed={placeIssues([], state)} />);
    expect(screen.getByRole("alert")).toHaveTextContent("Could not validate: offline");
  });

  it("puts an agent's problem on its field", () => {
    render(
      <AgentCard
        name="writer"
        spec={{ ...defaultAgent("Writer"), temperature: 5 }}
        catalog={catalog}
        issues={placed.agents.writer}
        taken={new Set(["writer"])}
        inFlow
        onChange={noop}
        onRename={noop}
        onRemove={noop}
        onMove={noop}
        onAddToFlow={noop}
      />,
    );
    const temperature = screen.getByLabelText("Temperature");
    expect(temperature.getAttribute("aria-invalid")).toBe("true");
    const errorId = temperature.getAttribute("aria-describedby") ?? "";
    expect(document.getElementById(errorId)).toHaveTextContent("less than or equal to 2");
    expect(screen.getByText("No anthropic key is set: add one in Settings.")).toBeTruthy();
  });

  it("marks the flow node a problem belongs to", () => {
    render(<FlowOutline flow={state.flow!} selected={null} onSelect={noop} issues={placed.nodes} />);
    const ghost = screen.getByRole("button", { name: /ghost \(agent ghost\)/ });
    expect(ghost.className).toContain("has-issues");
    expect(ghost).toHaveTextContent("unknown agent 'ghost'");
  });
});

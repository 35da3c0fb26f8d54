"""The console end to end: build a three-agent workflow, save, run, watch it succeed, open a
step's output, see the run on the analytics page; every page without console errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from console_support import Problems, Server

expect = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'").expect

AGENTS = [("researcher", "Researcher"), ("writer", "Writer"), ("reviewer", "Reviewer")]


def test_build_run_monitor_and_analyse(
    server: Server, page: tuple[Any, Problems], shots: Path
) -> None:
    page_, problems = page
    p = page_
    # the token hand-off: the URL serve prints; the token leaves the address bar
    p.goto(f"{server.url}/#token={server.token}")
    expect(p.get_by_role("heading", name="Workflows")).to_be_visible()
    assert "token" not in p.url
    for example in ("research-team", "multi-perspective", "support-triage"):
        expect(p.get_by_role("link", name=example, exact=True)).to_be_visible()
    p.screenshot(path=str(shots / "console-workflows.png"))

    # search, duplicate, delete
    p.get_by_role("searchbox", name="Search").fill("triage")
    expect(p.get_by_role("row")).to_have_count(2)  # the header and support-triage
    p.get_by_role("searchbox", name="Search").fill("")
    p.get_by_role("button", name="Duplicate research-team").click()
    expect(p.get_by_role("link", name="research-team-copy", exact=True)).to_be_visible()
    p.once("dialog", lambda dialog: dialog.accept())
    p.get_by_role("button", name="Delete research-team-copy").click()
    expect(p.get_by_text("Deleted research-team-copy.")).to_be_visible()
    expect(p.get_by_role("link", name="research-team-copy", exact=True)).to_have_count(0)

    # build a three-agent workflow
    p.get_by_role("button", name="New workflow").click()
    head = p.locator(".head-fields")
    head.get_by_label("Name").fill("e2e-team")
    head.get_by_label("Description").fill("Research, write and review, built in the browser.")
    for i, (name, role) in enumerate(AGENTS, start=1):
        p.get_by_role("button", name="Add agent").click()
        card = p.get_by_role("article", name=f"Agent agent_{i}")
        card.get_by_label("Role").fill(role)
        rename = card.get_by_label("Name")
        rename.fill(name)
        rename.press("Enter")
        expect(p.get_by_role("article", name=f"Agent {name}")).to_be_visible()
    for name, _ in AGENTS:
        expect(p.get_by_test_id(f"gnode-{name}")).to_be_visible()
    expect(p.get_by_text("✓ Valid · 3 agent steps")).to_be_visible()

    # live validation: an impossible temperature is reported on its field, then fixed
    writer = p.get_by_role("article", name="Agent writer")
    writer.get_by_label("Temperature").fill("5")
    expect(writer.get_by_role("alert")).to_contain_text("less than or equal to 2")
    expect(p.get_by_role("button", name="Save", exact=True)).to_be_disabled()
    writer.get_by_label("Temperature").fill("0.5")
    expect(p.get_by_text("✓ Valid · 3 agent steps")).to_be_visible()

    # the flow: make it custom, put the reviewer before the writer, then back again
    p.get_by_label("Execution mode").select_option("custom")
    p.get_by_role("button", name="reviewer (agent reviewer)").click()
    p.get_by_role("button", name="Move earlier").click()
    outline = p.get_by_role("navigation", name="Flow outline")
    expect(outline.get_by_role("button")).to_have_text(
        ["sequence (3)", "researcher (agent researcher)", "reviewer (agent reviewer)",
         "writer (agent writer)"])  # fmt: skip
    p.get_by_role("button", name="Move later").click()

    # connect in the graph: drag from the researcher's output onto the reviewer, which then
    # runs right after the researcher
    def node(name: str) -> Any:
        return p.locator(".react-flow__node", has=p.get_by_test_id(f"gnode-{name}"))

    node("researcher").locator(".react-flow__handle.source").drag_to(
        node("reviewer").locator(".react-flow__handle.target"))  # fmt: skip
    expect(outline.get_by_role("button")).to_have_text(
        ["sequence (3)", "researcher (agent researcher)", "reviewer (agent reviewer)",
         "writer (agent writer)"])  # fmt: skip
    p.get_by_role("button", name="reviewer (agent reviewer)").click()
    p.get_by_role("button", name="Move later").click()
    expect(outline.get_by_role("button")).to_have_text(
        ["sequence (3)", "researcher (agent researcher)", "writer (agent writer)",
         "reviewer (agent reviewer)"])  # fmt: skip

    # the YAML view round-trips
    p.get_by_role("tab", name="YAML").click()
    yaml_text = p.get_by_label("Definition (YAML)").input_value()
    assert "sequence:\n    - researcher\n    - writer\n    - reviewer" in yaml_text
    p.get_by_label("Definition (YAML)").fill(yaml_text.replace("e2e-team", "e2e-team"))
    p.get_by_role("button", name="Apply YAML").click()
    expect(p.get_by_text("The YAML was applied to the builder.")).to_be_visible()

    p.get_by_role("tab", name="Design").click()
    p.get_by_role("button", name="Save", exact=True).click()
    expect(p.get_by_text("Saved · version 1")).to_be_visible()
    assert re.search(r"/builder/[0-9a-f]{16}$", p.url)
    # keyboard: focus the writer's node in the graph and press Enter to configure it
    node("writer").focus()
    p.keyboard.press("Enter")
    expect(p.get_by_role("heading", name="Selected: agent writer")).to_be_visible()
    p.screenshot(path=str(shots / "console-builder.png"), full_page=True)

    p.get_by_role("tab", name="Step Functions").click()
    expect(p.get_by_label("Step Functions definition (ASL)")).to_contain_text('"StartAt"')
    p.get_by_role("tab", name="Design").click()

    # run it and watch it succeed
    p.get_by_label("Run input").fill("How do small teams use LLM agents?")
    p.get_by_role("button", name="Save and run").click()
    expect(p).to_have_url(re.compile(r"/runs/[0-9a-f]{32}$"))
    expect(p.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=30_000)
    for name, _ in AGENTS:
        expect(p.locator(f"[data-testid='gnode-{name}'].status-succeeded")).to_be_visible()
    p.get_by_role("list", name="Step timeline").get_by_role(
        "button", name=re.compile("^writer")
    ).click()
    step = p.get_by_role("region", name="Step writer")
    expect(step.get_by_label("Step output")).to_contain_text("Writer")
    expect(step).to_contain_text("Tokens")
    expect(p.get_by_role("list", name="Log lines")).to_contain_text("execution succeeded")
    p.screenshot(path=str(shots / "console-execution.png"), full_page=True)

    # a deep link loads the page itself (the server falls back to the console)
    execution_url = p.url
    p.goto(execution_url)
    expect(p.get_by_test_id("execution-status")).to_have_text("succeeded")

    p.get_by_role("link", name="Executions").click()
    expect(p.get_by_role("cell", name="e2e-team", exact=True)).to_be_visible()
    p.screenshot(path=str(shots / "console-executions.png"))

    # the run is counted on the analytics page
    p.get_by_role("link", name="Analytics").click()
    expect(p.get_by_test_id("kpi-executions")).to_have_text("1")
    expect(p.get_by_role("table", name="Per workflow")).to_contain_text("e2e-team")
    p.screenshot(path=str(shots / "console-analytics.png"), full_page=True)

    # settings: an API key is shown once; a provider key is write-only
    p.get_by_role("link", name="Settings").click()
    p.get_by_role("textbox", name="Name").fill("ci")
    p.get_by_role("button", name="Create key").click()
    expect(p.get_by_test_id("new-api-key")).to_contain_text("aw_")
    openai = p.get_by_role("form", name="openai key")
    openai.get_by_label("New openai key").fill("sk-test-0123456789abcdef")
    openai.get_by_role("button", name="Save").click()
    expect(openai).to_contain_text("set:")
    expect(openai.get_by_label("New openai key")).to_have_value("")
    p.screenshot(path=str(shots / "console-settings.png"), full_page=True)

    assert problems.items == []

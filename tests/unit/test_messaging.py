"""CommunicationHub, CoordinatorAgent and skill matching, with real agents on offline models."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentweaver.agents import Agent, AgentConfig, agent
from agentweaver.exceptions import (
    DefinitionError,
    ExecutionError,
    ModelRateLimited,
    StepTimeout,
)
from agentweaver.messaging import (
    CommunicationHub,
    CoordinatorAgent,
    Message,
    select_by_skills,
    skill_score,
    skill_scores,
    skill_tokens,
    task_text,
)
from agentweaver.models.messages import ModelMessage, SystemMessage, UserMessage
from agentweaver.models.test import FunctionModel, RequestInfo, TestModel
from agentweaver.tools import Tool, tool


def make_tool(name: str) -> Tool:
    def run(query: str = "") -> str:
        return f"{name}({query})"

    made: Tool = tool(run, name=name, description=f"{name} helper", register=False)
    return made


def make(role: str, text: str | None = None, delay: float = 0.0, **kwargs: Any) -> Agent:
    model = TestModel(custom_output_text=text, delay=delay)
    return Agent(AgentConfig(role=role, model=model, **kwargs))


def support_team() -> tuple[CommunicationHub, Agent, Agent, Agent]:
    hub = CommunicationHub()
    billing = make(
        "Billing Specialist",
        "refund issued",
        description="Resolves invoices, charges, refunds and payment disputes",
        tools=[make_tool("lookup_invoice"), make_tool("issue_refund")],
    )
    technical = make(
        "Technical Support Engineer",
        "restart the router",
        description="Troubleshoots errors, crashes, login problems and API integration issues",
        tools=[make_tool("search_logs"), make_tool("check_status")],
    )
    general = make(
        "General Support Agent",
        "happy to help",
        description="Answers general questions about accounts, plans and the product",
        tools=[make_tool("search_faq")],
    )
    for item in (billing, technical, general):
        hub.register_agent(item)
    return hub, billing, technical, general


# -- the hub --------------------------------------------------------------------------------


def test_register_by_role_and_resolve_by_name() -> None:
    hub = CommunicationHub()
    writer = hub.register_agent(make("Technical Writer"))
    assert hub.agents == {"Technical Writer": writer}
    assert hub.get_agent("technical_writer") is writer
    assert hub.get_agent("nobody") is None


def test_duplicate_role_is_a_definition_error() -> None:
    hub = CommunicationHub()
    hub.register_agent(make("Reviewer"))
    with pytest.raises(DefinitionError, match="Reviewer"):
        hub.register_agent(make("Reviewer", name="other"))


def test_message_defaults_and_type_alias() -> None:
    first, second = Message("a", "b", "hi"), Message("a", "b", "hi")
    assert first.message_type == first.type == "general"
    assert not first.requires_response
    assert first.in_reply_to is None
    assert first.id != second.id
    assert len(first.id) == 32
    reply = first.reply("yo")
    assert (reply.sender, reply.receiver, reply.type, reply.in_reply_to) == (
        "b",
        "a",
        "response",
        first.id,
    )


async def test_send_records_history_in_order() -> None:
    hub, billing, technical, _ = support_team()
    sent = [
        Message("coordinator", billing.config.role, "one"),
        Message("user", technical.name, "two"),
        Message(billing.config.role, technical.config.role, "three"),
    ]
    for message in sent:
        await hub.send_message(message)
    assert hub.message_history == sent
    assert hub.message_queue.qsize() == 3
    assert [m.content for m in hub.history(technical.config.role)] == ["two", "three"]
    assert [m.content for m in hub.history("billing_specialist")] == ["one", "three"]


async def test_unknown_receiver_names_it_and_the_registered_roles() -> None:
    hub, *_ = support_team()
    with pytest.raises(ExecutionError) as info:
        await hub.send_message(Message("coordinator", "Legal", "hello"))
    text = str(info.value)
    assert "'Legal'" in text
    assert "Billing Specialist" in text
    assert "General Support Agent" in text
    assert hub.message_history == []


async def test_request_round_trip_without_a_loop() -> None:
    hub, billing, *_ = support_team()
    reply = await hub.request("user", billing.config.role, "refund my order")
    assert reply.type == "response"
    assert reply.content == "refund issued"
    assert (reply.sender, reply.receiver) == (billing.config.role, "user")
    request = hub.message_history[0]
    assert request.requires_response
    assert reply.in_reply_to == request.id
    assert hub.message_history == [request, reply]
    assert hub.results[request.id].output == "refund issued"
    assert hub.usage.requests == 1
    assert hub.usage.total_tokens > 0


async def test_request_passes_the_sender_as_context() -> None:
    model = TestModel()
    hub = CommunicationHub()
    hub.register_agent(Agent(AgentConfig(role="Analyst", model=model)))
    await hub.request("Researcher", "Analyst", {"question": "why?"})
    user = next(m for m in model.requests[0] if isinstance(m, UserMessage))
    assert "sender: Researcher" in user.content
    assert "why?" in user.content


async def test_agent_failure_becomes_an_error_reply() -> None:
    hub = CommunicationHub()
    model = TestModel(fail_first=1, error=ModelRateLimited("slow down"))
    hub.register_agent(Agent(AgentConfig(role="Flaky", model=model)))
    reply = await hub.request("user", "Flaky", "anything")
    assert reply.is_error
    assert reply.type == "error"
    assert reply.content == {"type": "ModelRateLimited", "message": "slow down"}
    assert hub.results == {}
    # the hub is still usable: the model's next request succeeds
    again = await hub.request("user", "Flaky", "anything")
    assert again.type == "response"


async def test_a_plain_exception_in_the_agent_function_is_reported() -> None:
    @agent(role="Parser", model=TestModel())
    def parser(data: Any) -> str:
        raise ValueError(f"cannot parse {data!r}")

    hub = CommunicationHub()
    hub.register_agent(parser)
    hub.register_agent(make("Echo", "ok"))
    await hub.send_message(Message("user", "Parser", "x", requires_response=True))
    await hub.send_message(Message("user", "Echo", "y", requires_response=True))
    await hub.process_messages(until_idle=True)
    replies = [m for m in hub.message_history if m.in_reply_to]
    assert [(m.sender, m.type) for m in replies] == [("Parser", "error"), ("Echo", "response")]
    assert replies[0].content == {"type": "ValueError", "message": "cannot parse 'x'"}


async def test_process_until_idle_handles_every_queued_message() -> None:
    hub, billing, technical, general = support_team()
    asks = [
        Message("user", billing.config.role, "invoice", requires_response=True),
        Message("user", technical.config.role, "crash", requires_response=True),
        Message("user", general.config.role, "fyi"),  # no answer wanted
        Message("user", general.config.role, "plans?", requires_response=True),
    ]
    for message in asks:
        await hub.send_message(message)
    await hub.process_messages(until_idle=True)
    assert hub.message_queue.empty()
    replies = {m.in_reply_to: m.content for m in hub.message_history if m.type == "response"}
    assert replies == {
        asks[0].id: "refund issued",
        asks[1].id: "restart the router",
        asks[3].id: "happy to help",
    }
    assert set(hub.results) == {asks[0].id, asks[1].id, asks[3].id}


async def test_running_loop_serves_concurrent_requests() -> None:
    hub = CommunicationHub()
    for role in ("Alpha", "Beta", "Gamma"):
        hub.register_agent(
            Agent(AgentConfig(role=role, model=TestModel(custom_output_text=role, delay=0.05)))
        )
    loop = asyncio.create_task(hub.process_messages())
    await asyncio.sleep(0)  # the loop is running, so it (not the requests) delivers
    replies = await asyncio.gather(
        *(
            hub.request("user", role, f"q{i}", timeout=5)
            for i, role in enumerate(["Alpha", "Beta", "Gamma", "Alpha"])
        )
    )
    assert [r.content for r in replies] == ["Alpha", "Beta", "Gamma", "Alpha"]
    requests = [m for m in hub.message_history if m.requires_response]
    assert sorted(r.in_reply_to or "" for r in replies) == sorted(m.id for m in requests)
    hub.stop()
    await asyncio.wait_for(loop, 1)
    assert loop.done()
    assert loop.exception() is None


async def test_request_outlives_a_loop_stopped_while_its_agent_works() -> None:
    hub = CommunicationHub()
    hub.register_agent(make("Slow", "done", delay=0.1))
    loop = asyncio.create_task(hub.process_messages())
    await asyncio.sleep(0)
    pending = asyncio.create_task(hub.request("user", "Slow", "work", timeout=5))
    await asyncio.sleep(0.02)  # the loop has started the agent
    hub.stop()
    await asyncio.wait_for(loop, 1)  # lets the agent finish; its reply is still queued
    reply = await pending  # delivered by the request itself now that no loop runs
    assert reply.content == "done"


async def test_loop_started_after_stop_call_returns_and_state_resets() -> None:
    hub = CommunicationHub()
    hub.stop()  # before the loop even started: it must still stop
    await asyncio.wait_for(hub.process_messages(), 1)
    hub.register_agent(make("Echo", "ok"))
    reply = await hub.request("user", "Echo", "ping")  # no loop any more: handled directly
    assert reply.content == "ok"


async def test_agents_can_ask_each_other_with_or_without_a_loop() -> None:
    hub = CommunicationHub()
    hub.register_agent(make("Expert", "42"))

    @agent(role="Front Desk", model=TestModel())
    async def front_desk(question: str) -> str:
        answer = await hub.request("Front Desk", "Expert", question, timeout=5)
        return f"expert says {answer.content}"

    hub.register_agent(front_desk)
    direct = await hub.request("user", "front_desk", "meaning of life?", timeout=5)
    assert direct.type == "response"
    assert direct.content.endswith("expert says 42")

    loop = asyncio.create_task(hub.process_messages())
    looped = await hub.request("user", "Front Desk", "again?", timeout=5)
    assert looped.type == "response"
    assert looped.content.endswith("expert says 42")
    hub.stop()
    await asyncio.wait_for(loop, 1)


async def test_request_timeout_raises_step_timeout_and_forgets_the_request() -> None:
    hub = CommunicationHub()
    hub.register_agent(Agent(AgentConfig(role="Slow", model=TestModel(delay=5))))
    with pytest.raises(StepTimeout, match="Slow"):
        await hub.request("user", "Slow", "hurry", timeout=0.05)
    assert hub._pending == {}


async def test_subscribers_see_deliveries_and_make_a_valid_receiver() -> None:
    hub, billing, *_ = support_team()
    seen: list[str] = []
    everything: list[str] = []

    async def on_ui(message: Message) -> None:
        seen.append(message.content)

    def broken(message: Message) -> None:
        raise RuntimeError("listener bug")

    unsubscribe = hub.subscribe("ui", on_ui)
    hub.subscribe("*", lambda m: everything.append(m.type))
    hub.subscribe("ui", broken)  # must not stop delivery
    await hub.send_message(Message(billing.config.role, "ui", "status: ok"))
    await hub.request("user", billing.config.role, "refund?")
    await hub.process_messages(until_idle=True)
    assert seen == ["status: ok"]
    assert sorted(everything) == ["general", "general", "response"]
    unsubscribe()
    await hub.send_message(Message(billing.config.role, "ui", "later"))
    await hub.process_messages(until_idle=True)
    assert seen == ["status: ok"]


async def test_asking_a_non_agent_gets_an_error_reply() -> None:
    hub = CommunicationHub()
    hub.subscribe("dashboard", lambda m: None)
    reply = await hub.request("user", "dashboard", "answer me", timeout=1)
    assert reply.type == "error"
    assert reply.content["type"] == "ExecutionError"


# -- skill matching -------------------------------------------------------------------------


def test_tokens_drop_stop_words_and_stem() -> None:
    assert skill_tokens("I was charged twice on my invoices") == {"charg", "twic", "invoic"}
    assert skill_tokens("charge charges charging charged") == {"charg"}
    assert skill_tokens("process processes processing queries query") == {"process", "query"}
    assert skill_tokens("is it") == set()


def test_task_text_puts_title_description_body_first() -> None:
    task = {"priority": "high", "body": "details", "title": "Refund", "tags": ["a"]}
    assert task_text(task).splitlines() == ["Refund", "details", "high", '["a"]']


def test_skill_score_weights_role_description_and_tools() -> None:
    assert skill_score("billing", role="Billing Specialist") == 3
    assert skill_score("billing", role="x", description="handles billing") == 2
    assert skill_score("billing", role="x", tools=["billing_lookup"]) == 1
    assert skill_score("bill", role="Billing", description="bills", tools=["billed"]) == 6
    assert skill_score({"title": "refund please"}, role="Refunds") == 3


def test_select_by_skills_picks_billing_for_a_double_charge() -> None:
    _hub, billing, technical, general = support_team()
    candidates = {
        a.name: (a.config.role, a.config.description, [t.name for t in a.tools])
        for a in (general, technical, billing)
    }
    task = "I was charged twice on my invoice"
    assert select_by_skills(task, candidates) == billing.name
    scores = skill_scores(task, candidates)
    assert scores[billing.name] > 0 == scores[technical.name] == scores[general.name]
    assert select_by_skills("my login keeps failing with an error", candidates) == technical.name


def test_select_by_skills_tie_goes_to_the_first_candidate() -> None:
    same = ("Support", "helps people", ())
    assert select_by_skills("weather today", {"b": same, "a": same, "c": same}) == "b"
    assert select_by_skills("support", {"z": same, "y": same}) == "z"
    with pytest.raises(DefinitionError):
        select_by_skills("anything", {})


# -- the coordinator ------------------------------------------------------------------------


async def test_distribute_task_sends_a_request_from_the_coordinator() -> None:
    hub, billing, *_ = support_team()
    coordinator = CoordinatorAgent(hub)
    task = {"title": "Double charge", "description": "I was charged twice on my invoice"}
    chosen = await coordinator.distribute_task(task)
    assert chosen is billing
    [message] = hub.message_history
    assert (message.sender, message.receiver) == ("coordinator", billing.config.role)
    assert message.requires_response
    assert message.content == task
    decision = coordinator.last_decision
    assert decision is not None
    assert decision.strategy == "skills"
    assert decision.chosen == billing.name
    assert decision.raw_answer is None
    await hub.process_messages(until_idle=True)
    reply = hub.message_history[-1]
    assert (reply.receiver, reply.in_reply_to, reply.content) == (
        "coordinator",
        message.id,
        "refund issued",
    )


async def test_route_returns_the_agent_and_its_reply_within_available_agents() -> None:
    hub, billing, technical, general = support_team()
    coordinator = CoordinatorAgent(hub)
    chosen, reply = await coordinator.route("my invoice is wrong", [technical, general])
    assert chosen in (technical, general)
    assert chosen is not billing
    assert reply.sender == chosen.config.role
    assert reply.type == "response"


async def test_task_queue_is_distributed_in_order() -> None:
    hub, billing, technical, _ = support_team()
    coordinator = CoordinatorAgent(hub)
    coordinator.task_queue += ["refund my invoice", "the app crashes with an error"]
    done = await coordinator.distribute_all(timeout=5)
    assert [a for a, _ in done] == [billing, technical]
    assert coordinator.task_queue == []


async def test_model_strategy_routes_where_the_model_says_and_offers_every_agent() -> None:
    hub, billing, technical, general = support_team()
    seen: list[tuple[list[ModelMessage], RequestInfo]] = []

    def router(messages: list[ModelMessage], info: RequestInfo) -> str:
        seen.append((messages, info))
        return f"  '{technical.name.upper()}'. "

    coordinator = CoordinatorAgent(hub, router_model=FunctionModel(router), strategy="model")
    chosen, reply = await coordinator.route("I was charged twice on my invoice")
    assert chosen is technical
    assert reply.content == "restart the router"
    [(messages, info)] = seen
    assert info.params.choices is not None
    assert list(info.params.choices) == [billing.name, technical.name, general.name]
    assert "Billing Specialist" in info.params.choices[billing.name]
    assert "lookup_invoice" in info.params.choices[billing.name]
    assert info.settings.temperature == 0
    assert isinstance(messages[0], SystemMessage)
    assert "coordinator" in messages[0].content
    assert isinstance(messages[-1], UserMessage)
    assert "charged twice" in messages[-1].content
    decision = coordinator.last_decision
    assert decision is not None
    assert (decision.strategy, decision.chosen, decision.fallback) == (
        "model",
        technical.name,
        None,
    )
    assert decision.scores[billing.name] > decision.scores[technical.name]
    assert coordinator.usage.requests == 1


async def test_model_answer_naming_an_agent_in_a_sentence_or_by_role() -> None:
    hub, billing, _technical, general = support_team()
    answers = iter(["I'd send it to general_support_agent, not billing.", "Billing Specialist"])
    model = FunctionModel(lambda messages, info: next(answers))
    coordinator = CoordinatorAgent(hub, router_model=model)
    assert coordinator.strategy == "model"
    assert await coordinator.select_agent("hello") is general
    assert await coordinator.select_agent("hello") is billing


async def test_garbage_model_answer_falls_back_to_skills() -> None:
    hub, billing, *_ = support_team()
    model = FunctionModel(lambda messages, info: "¯\\_(ツ)_/¯ no idea")
    coordinator = CoordinatorAgent(hub, router_model=model, strategy="model")
    chosen = await coordinator.distribute_task("I was charged twice on my invoice")
    assert chosen is billing
    decision = coordinator.last_decision
    assert decision is not None
    assert decision.strategy == "skills"
    assert decision.chosen == billing.name
    assert decision.raw_answer == "¯\\_(ツ)_/¯ no idea"
    assert decision.fallback is not None
    assert "skills" in decision.fallback


async def test_router_model_string_is_resolved_lazily() -> None:
    hub, billing, *_ = support_team()
    coordinator = CoordinatorAgent(hub, router_model="test")
    assert isinstance(coordinator.router_model, TestModel)
    # TestModel picks the choice sharing most words with the task
    assert await coordinator.select_agent("refunds and payment disputes") is billing


def test_model_strategy_without_a_model_and_empty_hub_are_definition_errors() -> None:
    with pytest.raises(DefinitionError, match="router_model"):
        CoordinatorAgent(CommunicationHub(), strategy="model")


async def test_no_agents_to_choose_from() -> None:
    with pytest.raises(DefinitionError, match="no agents"):
        await CoordinatorAgent(CommunicationHub()).distribute_task("anything")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("billing", "billing"),
        ("  'Billing'. ", "billing"),
        ("**technical**", "technical"),
        ("I would send this to technical, not billing.", "technical"),
        ("The Billing Specialist should take it", "billing"),
        ("pre-billing is not a word here", None),
        ("nothing fits", None),
    ],
)
def test_match_answer(answer: str, expected: str | None) -> None:
    from agentweaver.messaging import match_answer

    labels = {"billing": ("billing", "Billing Specialist"), "technical": ("technical",)}
    assert match_answer(answer, labels) == expected

"""Inter-agent communication: messages, a hub that delivers them, and a coordinator.

Agents talk through ``CommunicationHub`` rather than calling each other so that every
exchange is recorded (``message_history``), accountable (``results`` keeps each reply's usage
and cost) and survivable: an agent that fails answers with an ``"error"`` message instead of
killing the loop. ``CoordinatorAgent`` picks who gets a task, by an explainable skill match or
by asking a router model, and keeps the reasons in ``last_decision``. The skill functions are
pure and dependency-free because the workflow runner's ``route: {by: skills}`` uses them too.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from agentweaver.exceptions import AgentWeaverError, DefinitionError, ExecutionError, StepTimeout
from agentweaver.models.base import Model
from agentweaver.models.messages import (
    ModelMessage,
    ModelRequestParameters,
    ModelSettings,
    SystemMessage,
    Usage,
    UserMessage,
)
from agentweaver.models.registry import infer_model

if TYPE_CHECKING:  # runtime import would tie this module to agent.py's import graph
    from agentweaver.agents import Agent, AgentResult

__all__ = [
    "CommunicationHub",
    "CoordinatorAgent",
    "Message",
    "RoutingDecision",
    "select_by_skills",
    "skill_score",
    "skill_scores",
    "skill_tokens",
    "task_text",
]

log = logging.getLogger(__name__)
Subscriber = Callable[["Message"], Awaitable[None] | None]


@dataclass
class Message:
    """One message between agents; ``in_reply_to`` ties a reply to its request."""

    sender: str
    receiver: str
    content: Any
    timestamp: float = field(default_factory=time.time)
    message_type: str = "general"
    requires_response: bool = False
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    in_reply_to: str | None = None

    @property
    def type(self) -> str:
        return self.message_type

    @property
    def is_error(self) -> bool:
        return self.message_type == "error"

    def reply(self, content: Any, message_type: str = "response") -> Message:
        return Message(
            self.receiver, self.sender, content, message_type=message_type, in_reply_to=self.id
        )


def _error_content(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, AgentWeaverError):
        return exc.to_dict()
    return {"type": type(exc).__name__, "message": str(exc)}


class CommunicationHub:
    """Routes messages to registered agents and answers requests with the agent's output.

    Messages are queued by ``send_message`` and delivered by ``process_messages`` (a loop) or,
    when no loop runs, by ``request`` itself, so a script needs no background task.
    """

    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}
        self.message_queue: asyncio.Queue[Message] = asyncio.Queue()
        self.message_history: list[Message] = []
        self.results: dict[str, AgentResult] = {}  # request message id -> the agent's result
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._waiters: set[asyncio.Future[None]] = set()  # woken on every send and loop exit
        self._loops = 0
        self._stop_requested = False

    def register_agent(self, agent: Agent) -> Agent:
        """Register under the agent's role (the spec's key); its name resolves too."""
        role = agent.config.role
        if role in self.agents:
            raise DefinitionError(f"an agent is already registered as {role!r}")
        if any(a.name == agent.name for a in self.agents.values()):
            raise DefinitionError(f"an agent named {agent.name!r} is already registered")
        self.agents[role] = agent
        return agent

    def get_agent(self, address: str) -> Agent | None:
        """The agent a role or a name designates, if any."""
        found = self.agents.get(address)
        return found or next((a for a in self.agents.values() if a.name == address), None)

    def _addresses(self, address: str) -> set[str]:
        found = self.get_agent(address)
        return {found.config.role, found.name} if found else {address}

    def subscribe(self, role: str, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` with each message delivered to ``role`` (``"*"``: all messages).

        Returns a function that unsubscribes. Subscribing also makes ``role`` a valid
        receiver, which is how a non-agent participant (a UI, a logger) receives messages.
        """
        self._subscribers.setdefault(role, []).append(callback)
        return lambda: self._subscribers[role].remove(callback)

    def history(self, role: str | None = None) -> list[Message]:
        """Messages in send order; with ``role``, those it sent or received."""
        if role is None:
            return list(self.message_history)
        who = self._addresses(role)
        return [m for m in self.message_history if m.sender in who or m.receiver in who]

    @property
    def usage(self) -> Usage:
        """Tokens every answered request used, for budgets and reports."""
        return sum((r.usage for r in self.results.values()), Usage())

    @property
    def cost(self) -> float | None:
        costs = [r.cost for r in self.results.values()]
        return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)

    async def send_message(self, message: Message) -> None:
        """Queue ``message``; replies may go to anyone, anything else needs a known receiver."""
        to = message.receiver
        known = self.get_agent(to) is not None or to in self._subscribers
        if not known and message.in_reply_to is None:
            registered = ", ".join(sorted(self.agents)) or "none"
            raise ExecutionError(
                f"no agent registered as {message.receiver!r} (registered: {registered})"
            )
        self.message_history.append(message)
        await self.message_queue.put(message)
        self._wake()

    async def request(
        self,
        sender: str,
        receiver: str,
        content: Any,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Message:
        """Send a message that needs an answer and return the reply (``"error"`` if it failed).

        Raises ``StepTimeout`` when no reply comes within ``timeout`` seconds.
        """
        message = Message(sender, receiver, content, requires_response=True)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[message.id] = future
        try:
            await self.send_message(message)
            async with asyncio.timeout(timeout):
                while not future.done():
                    if self._loops == 0 and not self.message_queue.empty():
                        await self._handle(self.message_queue.get_nowait())  # nobody else will
                    else:
                        await self._wait_activity(future)
            return future.result()
        except TimeoutError:
            raise StepTimeout(f"no reply from {receiver!r} within {timeout}s") from None
        finally:
            self._pending.pop(message.id, None)

    def stop(self) -> None:
        """Make running ``process_messages`` loops return (or the next one, if none runs yet)."""
        self._stop_requested = True
        self._wake()

    async def process_messages(self, *, until_idle: bool = False) -> None:
        """Deliver queued messages until ``stop()``, or until nothing is left with ``until_idle``.

        Agents answer concurrently (one task per request), so an agent may itself ``request``
        another agent without deadlocking the loop; a stopping loop lets answers finish.
        """
        self._loops += 1
        tasks: set[asyncio.Task[None]] = set()
        try:
            while not self._stop_requested:
                if self.message_queue.empty():
                    if until_idle and not tasks:
                        break
                    await self._wait_activity(*tasks)
                    continue
                message = self.message_queue.get_nowait()
                if message.requires_response:
                    task = asyncio.create_task(self._handle(message))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                else:
                    await self._handle(message)
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
        finally:
            self._loops -= 1
            if self._loops == 0:
                self._stop_requested = False
            self._wake()  # requests waiting on this loop now deliver for themselves

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _wait_activity(self, *futures: asyncio.Future[Any]) -> None:
        # registered before any await, right after the caller's check: no wake-up is lost
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait({waiter, *futures}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._waiters.discard(waiter)
            waiter.cancel()

    async def _handle(self, message: Message) -> None:
        await self._notify(message)
        if message.in_reply_to is not None:
            future = self._pending.get(message.in_reply_to)
            if future is not None and not future.done():
                future.set_result(message)
        if message.requires_response:
            await self._respond(message)

    async def _notify(self, message: Message) -> None:
        callbacks: list[Subscriber] = []
        for key in [*sorted(self._addresses(message.receiver)), "*"]:
            callbacks += [c for c in self._subscribers.get(key, []) if c not in callbacks]
        for callback in callbacks:
            try:
                outcome = callback(message)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:  # a listener's bug must not stop delivery
                log.exception("subscriber %r failed on message %s", callback, message.id)

    async def _respond(self, message: Message) -> None:
        agent = self.get_agent(message.receiver)
        try:
            if agent is None:
                raise ExecutionError(f"{message.receiver!r} is not an agent and cannot answer")
            result = await agent.execute(message.content, context={"sender": message.sender})
        except Exception as exc:  # the failure becomes the answer; the loop goes on
            await self.send_message(message.reply(_error_content(exc), "error"))
            return
        self.results[message.id] = result
        await self.send_message(message.reply(result.output))


# -- skill matching: pure functions, shared with the workflow runner ----------------------

_WORD = re.compile(r"[a-z0-9]+")
_STOP_TEXT = (
    "a about after all also am an and any are as at be been but by can could did do does for "
    "from had has have he her him his how i if in into is it its me my no not of on or our "
    "please she so than that the their them then there these they this those to up us was we "
    "were what when where which who why will with would you your"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())
_PRIORITY_KEYS = ("title", "description", "body")


def _stem(word: str) -> str:
    """Crude and predictable: charge/charges/charged/charging all become ``charg``."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    changed = True
    while changed:
        changed = False
        for suffix in ("ing", "ed", "s"):
            if suffix == "s" and word.endswith("ss"):
                continue
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word, changed = word[: -len(suffix)], True
                break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def skill_tokens(text: str) -> set[str]:
    """Lower-cased, stop-word-free, stemmed words: the vocabulary skills are matched on."""
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS}


def task_text(task: Any) -> str:
    """A task as text; a dict contributes its values, ``title``/``description``/``body`` first."""
    if isinstance(task, str):
        return task
    if isinstance(task, Mapping):
        keys = [k for k in _PRIORITY_KEYS if k in task] + [
            k for k in task if k not in _PRIORITY_KEYS
        ]
        return "\n".join(task_text(task[k]) for k in keys)
    return json.dumps(task, ensure_ascii=False, default=str)


def skill_score(task: Any, *, role: str, description: str = "", tools: Sequence[str] = ()) -> float:
    """Weighted overlap of the task's words with a role (3), description (2) and tools (1)."""
    words = skill_tokens(task_text(task))
    tool_words = skill_tokens(" ".join(t.replace("_", " ") for t in tools))
    return float(
        3 * len(words & skill_tokens(role))
        + 2 * len(words & skill_tokens(description))
        + len(words & tool_words)
    )


def skill_scores(
    task: Any, candidates: Mapping[str, tuple[str, str, Sequence[str]]]
) -> dict[str, float]:
    """Each candidate's ``skill_score``; candidates are ``key -> (role, description, tools)``."""
    return {
        key: skill_score(task, role=role, description=description, tools=tools)
        for key, (role, description, tools) in candidates.items()
    }


def select_by_skills(task: Any, candidates: Mapping[str, tuple[str, str, Sequence[str]]]) -> str:
    """The best-matching candidate's key; the first one listed wins a tie."""
    if not candidates:
        raise DefinitionError("no candidates to select from")
    scores = skill_scores(task, candidates)
    return max(scores, key=lambda key: scores[key])  # max keeps the first of equal scores


# -- the coordinator ------------------------------------------------------------------------

_ROUTER_PROMPT = (
    "You are a coordinator choosing the best agent for a task. Reply with the name of exactly "
    "one agent from this list and nothing else:\n{agents}"
)


@dataclass
class RoutingDecision:
    """Why a task went where it went; ``fallback`` says why a model's answer was not used."""

    chosen: str
    strategy: Literal["skills", "model"]
    scores: dict[str, float]
    raw_answer: str | None = None
    fallback: str | None = None


def _skills_of(agent: Agent) -> tuple[str, str, list[str]]:
    tools = [t if isinstance(t, str) else t.name for t in agent.config.tools or []]
    return agent.config.role, agent.config.description or agent.instructions, tools


def _match_answer(answer: str, agents: Sequence[Agent]) -> Agent | None:
    """Exact name or role (ignoring case, quotes, punctuation), else the earliest mentioned."""
    cleaned = answer.strip().strip("\"'`*.,;:!?()[] \t\n").lower()
    for item in agents:
        if cleaned in (item.name.lower(), item.config.role.lower()):
            return item
    best: tuple[int, int, Agent] | None = None
    for item in agents:
        for label in (item.name, item.config.role):
            hit = re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", answer, re.IGNORECASE)
            if hit and (best is None or (hit.start(), -len(label)) < best[:2]):
                best = (hit.start(), -len(label), item)
    return best[2] if best else None


class CoordinatorAgent:
    """Distributes tasks to the hub's agents (the spec's coordinator)."""

    def __init__(
        self,
        communication_hub: CommunicationHub,
        *,
        router_model: Model | str | None = None,
        strategy: Literal["skills", "model"] = "skills",
    ) -> None:
        if strategy == "model" and router_model is None:
            raise DefinitionError("strategy='model' needs a router_model")
        self.hub = communication_hub
        self.task_queue: list[Any] = []
        self.strategy: Literal["skills", "model"] = (
            "model" if router_model is not None else strategy
        )
        self._router = router_model
        self.last_decision: RoutingDecision | None = None
        self.usage = Usage()  # what the router model spent, apart from the agents' usage

    @property
    def router_model(self) -> Model | None:
        """The router model, built on first use so a coordinator can be defined without keys."""
        if isinstance(self._router, str):
            self._router = infer_model(self._router)
        return self._router

    def _candidates(self, available_agents: Sequence[Agent] | None) -> list[Agent]:
        agents = list(self.hub.agents.values() if available_agents is None else available_agents)
        if not agents:
            raise DefinitionError("no agents to distribute the task to; register some first")
        return agents

    def _analyze_task_complexity(self, task: Any) -> dict[str, Any]:
        text = task_text(task)
        return {"task": task, "text": text, "words": sorted(skill_tokens(text))}

    def _calculate_skill_match(self, task_analysis: Mapping[str, Any], agent: Agent) -> float:
        role, description, tools = _skills_of(agent)
        return skill_score(task_analysis["text"], role=role, description=description, tools=tools)

    def _select_best_agent(
        self, task_analysis: Mapping[str, Any], agents: Sequence[Agent]
    ) -> Agent:
        scores = {a.name: self._calculate_skill_match(task_analysis, a) for a in agents}
        chosen = max(agents, key=lambda a: scores[a.name])
        self.last_decision = RoutingDecision(chosen.name, "skills", scores)
        return chosen

    async def select_agent(
        self, task: Any, available_agents: Sequence[Agent] | None = None
    ) -> Agent:
        """The agent for ``task`` by this coordinator's strategy; ``last_decision`` says why."""
        agents = self._candidates(available_agents)
        analysis = self._analyze_task_complexity(task)
        by_skills = self._select_best_agent(analysis, agents)
        decision, model = self.last_decision, self.router_model
        if self.strategy == "skills" or model is None or decision is None:
            return by_skills
        choices = {}
        for item in agents:
            role, description, tools = _skills_of(item)
            choices[item.name] = f"{role}: {description}; tools: {', '.join(tools) or 'none'}"
        listing = "\n".join(f"- {name}: {text}" for name, text in choices.items())
        messages: list[ModelMessage] = [
            SystemMessage(_ROUTER_PROMPT.format(agents=listing)),
            UserMessage(analysis["text"]),
        ]
        response = await model.request(
            messages, ModelSettings(temperature=0), ModelRequestParameters(choices=choices)
        )
        self.usage = self.usage + response.usage
        decision.raw_answer = response.text
        chosen = _match_answer(response.text, agents)
        if chosen is None:
            decision.fallback = f"model answer {response.text[:80]!r} names no agent; used skills"
            return by_skills
        decision.chosen, decision.strategy = chosen.name, "model"
        return chosen

    async def distribute_task(
        self, task: Any, available_agents: Sequence[Agent] | None = None
    ) -> Agent:
        """Send ``task`` to the best agent as a request from ``"coordinator"``; don't wait."""
        selected = await self.select_agent(task, available_agents)
        message = Message("coordinator", selected.config.role, task, requires_response=True)
        await self.hub.send_message(message)
        return selected

    async def route(
        self,
        task: Any,
        available_agents: Sequence[Agent] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the spec's API, passed to hub.request
    ) -> tuple[Agent, Message]:
        """Like ``distribute_task`` but wait for the agent's reply and return it too."""
        selected = await self.select_agent(task, available_agents)
        reply = await self.hub.request("coordinator", selected.config.role, task, timeout)
        return selected, reply

    async def distribute_all(
        self,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[tuple[Agent, Message]]:
        """Route every task in ``task_queue`` in order, emptying it."""
        done = []
        while self.task_queue:
            done.append(await self.route(self.task_queue.pop(0), timeout=timeout))
        return done

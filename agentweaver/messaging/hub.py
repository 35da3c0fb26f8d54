"""Messages between agents and the hub that delivers them.

Agents talk through ``CommunicationHub`` rather than calling each other so that every
exchange is recorded (``message_history``), accountable (``results`` keeps each reply's usage
and cost) and survivable: an agent that fails answers with an ``"error"`` message instead of
killing the loop.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentweaver.exceptions import AgentWeaverError, DefinitionError, ExecutionError, StepTimeout
from agentweaver.models.messages import (
    Usage,
)

if TYPE_CHECKING:  # runtime import would tie this module to agent.py's import graph
    from agentweaver.agents import Agent, AgentResult

__all__ = ["CommunicationHub", "Message"]

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

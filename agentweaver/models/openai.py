"""OpenAI adapter: GPT and o-series models through the Chat Completions API.

Chat Completions rather than Responses because it is what every OpenAI-compatible server
(Ollama, vLLM, llama.cpp, LM Studio) speaks, so ``OpenAICompatibleModel`` reuses this class
whole. The SDK is imported when the first request builds the client, never at import time.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from agentweaver.exceptions import ModelError, ModelNotConfigured, ModelTimeout, ModelUnavailable
from agentweaver.models.base import Model
from agentweaver.models.errors import error_for_status, parse_retry_after
from agentweaver.models.messages import (
    AssistantMessage,
    ModelMessage,
    ModelRequestParameters,
    ModelResponse,
    ModelSettings,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from agentweaver.models.pricing import PriceTable

__all__ = ["OpenAIModel", "is_reasoning_model"]

# o1/o3/o4... and gpt-5 onwards reason before answering; "-chat-latest" snapshots do not
_REASONING = re.compile(r"^(?:ft:)?(?:o\d|gpt-(\d+))")
_SECRET = re.compile(r"\bsk-[A-Za-z0-9_*.\-]{3,}")
_SCHEMA_NAME = re.compile(r"[^A-Za-z0-9_-]")
# what a malformed body looks like once the SDK has (leniently) parsed it
_MALFORMED = (AttributeError, IndexError, KeyError, TypeError, ValueError)


def is_reasoning_model(model_name: str) -> bool:
    """Whether OpenAI treats ``model_name`` as a reasoning model (no temperature,
    ``max_completion_tokens``, ``developer`` instructions, ``reasoning_effort``)."""
    match = _REASONING.match(model_name)
    if match is None or model_name.endswith("-chat-latest"):
        return False
    major = match.group(1)
    return major is None or int(major) >= 5


def _strict_ok(schema: Any) -> bool:
    """Strict structured output needs every object closed with all its properties required;
    a schema that is not is sent non-strict (still honoured) rather than rewritten, since
    rewriting it would change what validates."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        if schema.get("type") == "object" or isinstance(props, dict):
            if schema.get("additionalProperties") is not False:
                return False
            if set(schema.get("required", [])) != set(props or {}):
                return False
        return all(_strict_ok(value) for value in schema.values())
    if isinstance(schema, list):
        return all(_strict_ok(value) for value in schema)
    return True


def _wire_call(call: ToolCall) -> dict[str, Any]:
    function = {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)}
    return {"id": call.id, "type": "function", "function": function}


def _choices_schema(choices: Mapping[str, str]) -> dict[str, Any]:
    listing = "; ".join(f"{name}: {text}" for name, text in choices.items())
    return {
        "type": "object",
        "properties": {"choice": {"type": "string", "enum": list(choices), "description": listing}},
        "required": ["choice"],
        "additionalProperties": False,
    }


class OpenAIModel(Model):
    """GPT and o-series models (``openai:gpt-4.1``, ``openai:o3``...).

    ``extra`` holds default provider knobs merged under each request's ``settings.extra``
    (``{"reasoning_effort": "high"}``); agents do not set ``settings.extra`` themselves, so
    this is how an agent's model gets them. Unknown knobs go into the request body as is.
    """

    provider = "openai"
    #: OpenAI deprecated ``max_tokens`` (reasoning models reject it); most local servers
    #: only know ``max_tokens``, so subclasses switch the field
    max_tokens_field = "max_completion_tokens"

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        client: Any = None,
        prices: PriceTable | None = None,
        timeout: float = 120.0,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(model_name, prices)
        self._api_key = api_key  # never logged: repr shows the name only
        self.base_url = base_url
        self.timeout = timeout
        self.extra = dict(extra or {})
        self._client = client

    @property
    def reasoning(self) -> bool:
        return is_reasoning_model(self.model_name)

    def _get_client(self) -> Any:
        if self._client is None:
            import openai

            try:
                self._client = openai.AsyncOpenAI(
                    api_key=self._api_key,  # None: the SDK reads OPENAI_API_KEY
                    base_url=self.base_url,
                    max_retries=0,  # the engine retries, honouring Retry-After
                    timeout=self.timeout,
                )
            except openai.OpenAIError:
                raise ModelNotConfigured(
                    f"model {self.name!r} needs an API key: set OPENAI_API_KEY"
                ) from None
        return self._client

    def _wire_messages(self, messages: Sequence[ModelMessage]) -> list[dict[str, Any]]:
        # o1 and newer take instructions as "developer" messages; "system" is the classic role
        system_role = "developer" if self.reasoning else "system"
        out: list[dict[str, Any]] = []
        for message in messages:
            if isinstance(message, SystemMessage):
                out.append({"role": system_role, "content": message.content})
            elif isinstance(message, UserMessage):
                out.append({"role": "user", "content": message.content})
            elif isinstance(message, AssistantMessage):
                item: dict[str, Any] = {"role": "assistant", "content": message.content}
                if message.tool_calls:
                    item["content"] = message.content or None
                    item["tool_calls"] = [_wire_call(call) for call in message.tool_calls]
                out.append(item)
            elif isinstance(message, ToolResultMessage):
                # the wire has no error flag: the text has to say so
                content = message.content
                if message.is_error and not content.lower().startswith("error"):
                    content = f"error: {content}"
                out.append(
                    {"role": "tool", "tool_call_id": message.tool_call_id, "content": content}
                )
        return out

    def _request_kwargs(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> dict[str, Any]:
        extra = {**self.extra, **settings.extra}
        effort = extra.pop("reasoning_effort", None)
        kwargs: dict[str, Any] = {
            "model": self.model_name,
            "messages": self._wire_messages(messages),
        }
        # reasoning models reject temperature, except with reasoning switched off (gpt-5.1+)
        if settings.temperature is not None and (not self.reasoning or effort == "none"):
            kwargs["temperature"] = settings.temperature
        if settings.max_tokens is not None:
            kwargs[self.max_tokens_field] = settings.max_tokens
        if effort is not None:
            kwargs["reasoning_effort"] = effort
        if params.tools:
            # ToolDefinition has exactly the fields of OpenAI's function definition
            kwargs["tools"] = [{"type": "function", "function": asdict(t)} for t in params.tools]
        if params.choices:
            kwargs["response_format"] = self._json_schema("choice", _choices_schema(params.choices))
        elif params.output_schema is not None:
            schema = params.output_schema
            name = _SCHEMA_NAME.sub("_", str(schema.get("title") or "output"))[:64]
            kwargs["response_format"] = self._json_schema(name, schema)
        elif params.output_json:
            kwargs["response_format"] = {"type": "json_object"}
            if not any("json" in m["content"].lower() for m in kwargs["messages"] if m["content"]):
                # JSON mode is refused unless the conversation mentions JSON
                kwargs["messages"].append({"role": "user", "content": "Answer in JSON."})
        if settings.timeout is not None:
            kwargs["timeout"] = settings.timeout
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    @staticmethod
    def _json_schema(name: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": _strict_ok(schema)},
        }

    @staticmethod
    def _usage(raw: Any) -> Usage:
        if raw is None:  # some compatible servers send none
            return Usage(requests=1)
        prompt_details = getattr(raw, "prompt_tokens_details", None)
        output_details = getattr(raw, "completion_tokens_details", None)
        return Usage(
            input_tokens=int(raw.prompt_tokens or 0),  # includes the cached tokens
            output_tokens=int(raw.completion_tokens or 0),  # includes the reasoning tokens
            cache_read_tokens=int(getattr(prompt_details, "cached_tokens", None) or 0),
            reasoning_tokens=int(getattr(output_details, "reasoning_tokens", None) or 0),
            requests=1,
        )

    def _tool_call(self, call_id: str, name: str, arguments: str) -> ToolCall:
        try:
            parsed = json.loads(arguments or "{}")
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ModelUnavailable(
                f"{self.provider}: the model's arguments for tool {name!r} are not a JSON object"
            )
        return ToolCall(name, parsed, call_id)

    @staticmethod
    def _chosen(text: str) -> str:
        """The case name out of ``{"choice": name}``; the text itself if it is not that."""
        try:
            choice = json.loads(text).get("choice")
        except (AttributeError, ValueError):
            choice = None
        return choice if isinstance(choice, str) else text.strip()

    def _parse(self, completion: Any, params: ModelRequestParameters) -> ModelResponse:
        try:
            choice = completion.choices[0]
            message = choice.message
            text = message.content or getattr(message, "refusal", None) or ""
            calls = [
                self._tool_call(c.id or "", c.function.name, c.function.arguments)
                for c in message.tool_calls or []
            ]
            usage = self._usage(completion.usage)
            finish = choice.finish_reason or ("tool_calls" if calls else "stop")
        except _MALFORMED as exc:
            raise self._malformed(exc) from None
        if params.choices and not calls:
            text = self._chosen(text)
        return ModelResponse(text, calls, usage, self.name, str(finish))

    def _malformed(self, exc: BaseException) -> ModelUnavailable:
        return ModelUnavailable(f"{self.provider}: malformed response body ({type(exc).__name__})")

    def _scrub(self, text: str) -> str:
        """Error texts may echo the key (OpenAI's 401 shows part of it): keep it out."""
        key = self._api_key or getattr(self._client, "api_key", None)  # or the env's key
        if isinstance(key, str) and len(key) > 3:
            text = text.replace(key, "***")
        return _SECRET.sub("sk-***", text)

    def _error(self, exc: BaseException) -> ModelError | ModelNotConfigured:
        """Any failure as the one exception tree; ``error_for_status`` decides retryability."""
        if isinstance(exc, ModelError | ModelNotConfigured):
            return exc
        import openai

        # APITimeoutError, or mid-stream the transport's own ReadTimeout, unwrapped by the SDK
        if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
            return ModelTimeout(f"{self.provider}: request timed out")
        if isinstance(exc, openai.APIConnectionError):
            return ModelUnavailable(f"{self.provider}: connection failed: {self._scrub(str(exc))}")
        if isinstance(exc, openai.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            message = str(body.get("message") or exc.message)
            if exc.code:  # the code names the error ("context_length_exceeded") for the matcher
                message = f"{exc.code}: {message}"
            headers = exc.response.headers
            millis = parse_retry_after(headers.get("retry-after-ms"))  # the finer one first
            retry_after = parse_retry_after(headers.get("retry-after"))
            retry_after = retry_after if millis is None else millis / 1000
            return error_for_status(
                self.provider, exc.status_code, self._scrub(message), retry_after
            )
        if isinstance(exc, openai.APIError):  # an error event inside a stream: no status
            return ModelUnavailable(f"{self.provider}: {self._scrub(exc.message)}")
        if isinstance(exc, _MALFORMED):
            return self._malformed(exc)
        return ModelUnavailable(f"{self.provider}: {type(exc).__name__}: {self._scrub(str(exc))}")

    async def request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> ModelResponse:
        kwargs = self._request_kwargs(messages, settings, params)
        try:
            completion = await self._get_client().chat.completions.create(**kwargs)
        except Exception as exc:
            raise self._error(exc) from None
        return self._parse(completion, params)

    async def request_stream(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> AsyncIterator[str | ModelResponse]:
        """Text deltas as they arrive; tool calls arrive in pieces keyed by ``index``."""
        kwargs = self._request_kwargs(messages, settings, params)
        kwargs.update(stream=True, stream_options={"include_usage": True})
        parts: list[str] = []
        calls: dict[int, list[str]] = {}  # index -> [id, name, arguments]
        usage, finish, chunks = Usage(requests=1), "", 0
        try:
            stream = await self._get_client().chat.completions.create(**kwargs)
            try:
                async for chunk in stream:
                    chunks += 1
                    if getattr(chunk, "usage", None) is not None:
                        usage = self._usage(chunk.usage)
                    for choice in chunk.choices or []:
                        delta = choice.delta
                        for piece in delta.tool_calls or []:
                            slot = calls.setdefault(int(piece.index), ["", "", ""])
                            slot[0] = piece.id or slot[0]
                            if piece.function is not None:
                                slot[1] = slot[1] or piece.function.name or ""  # sent once
                                slot[2] += piece.function.arguments or ""
                        finish = choice.finish_reason or finish
                        if delta.content:
                            parts.append(delta.content)
                            if not params.choices:  # a choice is yielded whole at the end
                                yield delta.content
            finally:
                await stream.close()
        except Exception as exc:
            raise self._error(exc) from None
        if not chunks or not finish:
            raise ModelUnavailable(f"{self.provider}: the stream ended before the answer did")
        text = "".join(parts)
        tool_calls = [self._tool_call(*calls[i]) for i in sorted(calls)]
        if params.choices and not tool_calls:
            text = self._chosen(text)
            yield text
        yield ModelResponse(text, tool_calls, usage, self.name, finish)

"""Google Gemini through the maintained ``google-genai`` SDK (the Gemini Developer API).

The SDK is imported on first use only. Its own retries are off (``attempts=1``, automatic
continuation off, automatic function calling off): one ``request`` is one HTTP request, and
the engine's retry policy, which honours ``Retry-After``, is the only place that retries.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any

from agentweaver.exceptions import (
    ModelInvalidRequest,
    ModelNotConfigured,
    ModelTimeout,
    ModelUnavailable,
)
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
    Usage,
    UserMessage,
)
from agentweaver.models.pricing import PriceTable

__all__ = ["GeminiModel"]

# Google's documented value for function calls Gemini did not sign itself (history from another
# model or process): Gemini 3+ answers 400 when a step's first functionCall has no signature.
_FOREIGN_SIGNATURE = b"skip_thought_signature_validator"
_MAX_SIGNATURES = 4096
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")  # google.protobuf.Duration in JSON: "7s"
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "CONTINUATION": "length"}
_FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
_HTTP = {  # HTTP library the SDK may use -> (its timeout error, its transport error base)
    "httpx2": ("TimeoutException", "TransportError"),
    "httpx": ("TimeoutException", "TransportError"),
    "aiohttp": ("ServerTimeoutError", "ClientError"),
}
_THINKING = ("thinking_budget", "thinking_level", "include_thoughts")
# config fields the adapter owns; settings.extra may set any other GenerateContentConfig field
_OWNED = {
    "system_instruction", "tools", "automatic_function_calling", "http_options",
    "automatic_continuation", "continuation_token", "response_mime_type", "response_schema",
    "response_json_schema", "max_output_tokens", "thinking_config", "should_return_http_response",
}  # fmt: skip


class GeminiModel(Model):
    """Gemini models (``google:gemini-3.8-flash``).

    ``extra`` holds default provider knobs (``thinking_level``, ``top_p``, ...) that
    ``settings.extra`` overrides per request: agents build their own ``ModelSettings``, so this
    is how an agent config reaches them.
    """

    provider = "google"

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
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout
        self._client = client
        self._extra = dict(extra or {})
        # our tool call id -> (thought signature, id issued by the API): Gemini wants each
        # signature back on the same functionCall part, and vendor-neutral ToolCalls have no
        # field for it (bounded: one agent's tool loop needs only its own recent calls)
        self._calls: OrderedDict[str, tuple[bytes | None, bool]] = OrderedDict()

    # -- the two entry points -------------------------------------------------------------

    async def request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> ModelResponse:
        client, contents, config = self._prepare(messages, settings, params)
        try:
            response = await client.aio.models.generate_content(
                model=self.model_name, contents=contents, config=config
            )
        except Exception as exc:
            raise self._error(exc) from exc
        return self._response([response])

    async def request_stream(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> AsyncIterator[str | ModelResponse]:
        """Text deltas from the SSE stream; function calls arrive whole, in the final response."""
        client, contents, config = self._prepare(messages, settings, params)
        chunks: list[Any] = []
        try:
            stream = await client.aio.models.generate_content_stream(
                model=self.model_name, contents=contents, config=config
            )
            async with aclosing(stream):
                async for chunk in stream:
                    chunks.append(chunk)
                    for part in _parts(chunk):
                        if part.text and not part.thought:
                            yield part.text
        except Exception as exc:
            raise self._error(exc) from exc
        yield self._response(chunks)

    # -- request building ------------------------------------------------------------------

    def _sdk(self) -> Any:
        """The client, built on first use so that only a real Gemini call imports the SDK."""
        if self._client is None:
            from google import genai
            from google.genai import types

            options = types.HttpOptions(
                base_url=self._base_url,
                timeout=max(int(self._timeout * 1000), 1),  # the SDK counts milliseconds
                # attempts=1 also stops the SDK's own sleep-and-retry on aiohttp connect errors
                retry_options=types.HttpRetryOptions(attempts=1),
            )
            try:  # vertexai=False: an ambient GOOGLE_GENAI_USE_VERTEXAI must not reroute keys
                self._client = genai.Client(
                    api_key=self._api_key, vertexai=False, http_options=options
                )
            except ValueError:
                raise ModelNotConfigured(
                    f"model {self.name!r} needs an API key: set GEMINI_API_KEY or GOOGLE_API_KEY"
                ) from None
        return self._client

    def _prepare(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> tuple[Any, list[Any], Any]:
        client = self._sdk()
        try:
            return client, self._contents(messages), self._config(messages, settings, params)
        except (TypeError, ValueError) as exc:  # pydantic refused a setting's value
            raise ModelInvalidRequest(f"google: invalid request: {exc}") from None

    def _contents(self, messages: Sequence[ModelMessage]) -> list[Any]:
        from google.genai import types

        contents: list[Any] = []

        def add(role: str, parts: list[Any]) -> None:
            if contents and contents[-1].role == role:
                contents[-1].parts.extend(parts)
            else:
                contents.append(types.Content(role=role, parts=parts))

        for message in messages:
            if isinstance(message, SystemMessage):
                continue  # -> system_instruction
            if isinstance(message, UserMessage):
                add("user", [types.Part(text=message.content)])
            elif isinstance(message, AssistantMessage):
                parts = [types.Part(text=message.content)] if message.content else []
                for index, call in enumerate(message.tool_calls):
                    signature, from_api = self._calls.get(call.id, (None, False))
                    if index == 0 and call.id not in self._calls:
                        signature = _FOREIGN_SIGNATURE
                    function_call = types.FunctionCall(
                        name=call.name, args=call.arguments, id=call.id if from_api else None
                    )
                    parts.append(
                        types.Part(function_call=function_call, thought_signature=signature)
                    )
                if parts:
                    add("model", parts)
            else:  # a tool result goes back as a functionResponse in a user turn
                from_api = self._calls.get(message.tool_call_id, (None, False))[1]
                result = types.FunctionResponse(
                    name=message.name,
                    response={"error" if message.is_error else "output": message.content},
                    id=message.tool_call_id if from_api else None,
                )
                add("user", [types.Part(function_response=result)])
        return contents

    def _config(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> Any:
        from google.genai import types

        system = [m.content for m in messages if isinstance(m, SystemMessage) and m.content]
        fields: dict[str, Any] = {
            "temperature": settings.temperature,
            "max_output_tokens": settings.max_tokens,
            "automatic_function_calling": types.AutomaticFunctionCallingConfig(disable=True),
            "automatic_continuation": False,
        }
        if settings.timeout:
            fields["http_options"] = types.HttpOptions(timeout=max(int(settings.timeout * 1000), 1))
        if params.tools:
            declarations = [
                types.FunctionDeclaration(
                    name=t.name, description=t.description, parameters_json_schema=t.parameters
                )
                for t in params.tools
            ]
            fields["tools"] = [types.Tool(function_declarations=declarations)]
        # Native structured output only without tools: Gemini 2.x rejects a response schema
        # alongside function calling. With tools the constraint becomes an instruction.
        native = not params.tools
        if params.choices:
            listing = "\n".join(f"- {name}: {text}" for name, text in params.choices.items())
            system.append(f"Answer with exactly one of these names and nothing else:\n{listing}")
            if native:
                fields["response_mime_type"] = "text/x.enum"
                fields["response_schema"] = {"type": "STRING", "enum": list(params.choices)}
        elif params.output_schema is not None:
            if native:
                fields["response_mime_type"] = "application/json"
                fields["response_json_schema"] = params.output_schema
            else:
                schema = json.dumps(params.output_schema)
                system.append(f"Answer with one JSON value matching this JSON schema: {schema}")
        elif params.output_json and native:
            fields["response_mime_type"] = "application/json"
        if system:
            fields["system_instruction"] = "\n\n".join(system)
        extra = {**self._extra, **settings.extra}
        thinking = {k: extra.pop(k) for k in _THINKING if k in extra}
        if thinking:
            fields["thinking_config"] = types.ThinkingConfig(**thinking)
        unknown = sorted(
            k for k in extra if k in _OWNED or k not in types.GenerateContentConfig.model_fields
        )
        if unknown:
            raise ModelInvalidRequest(
                f"google: unsupported settings.extra key(s) {', '.join(unknown)}: use "
                f"{', '.join(_THINKING)} or a GenerateContentConfig field such as top_p"
            )
        fields.update(extra)
        return types.GenerateContentConfig(**fields)

    # -- response parsing --------------------------------------------------------------------

    def _response(self, chunks: Sequence[Any]) -> ModelResponse:
        """One ``ModelResponse`` from a whole response or from all the chunks of a stream."""
        texts: list[str] = []
        calls: list[ToolCall] = []
        usage_metadata, finish, blocked = None, None, None
        for chunk in chunks:
            usage_metadata = chunk.usage_metadata or usage_metadata
            feedback = chunk.prompt_feedback
            blocked = (feedback.block_reason if feedback else None) or blocked
            candidate = chunk.candidates[0] if chunk.candidates else None
            finish = (candidate.finish_reason if candidate else None) or finish
            for part in _parts(chunk):
                if part.function_call is not None:
                    calls.append(self._remember(len(calls), part.function_call, part))
                elif part.text and not part.thought:
                    texts.append(part.text)
        if usage_metadata is None and not texts and not calls and blocked is None:
            raise ModelUnavailable("google: the response body was malformed (no candidates)")
        reason = str(getattr(finish, "value", finish) or "STOP")
        finish_reason = _FINISH.get(reason, reason.lower())
        if blocked is not None or reason in _FILTERED:
            finish_reason = "content_filter"
        if calls:
            finish_reason = "tool_calls"
        return ModelResponse(
            "".join(texts), calls, _usage(usage_metadata), self.name, finish_reason
        )

    def _remember(self, index: int, function_call: Any, part: Any) -> ToolCall:
        """A ``ToolCall`` with a stable id (the API's, else ``call_<index>_<digest>``)."""
        arguments = dict(function_call.args or {})
        name = str(function_call.name or "")
        signature: bytes | None = part.thought_signature
        call_id = function_call.id
        if not call_id:
            seed = json.dumps([name, arguments], sort_keys=True, default=str).encode()
            digest = hashlib.sha256(seed + (signature or b"")).hexdigest()[:10]
            call_id = f"call_{index}_{digest}"
        self._calls[call_id] = (signature, bool(function_call.id))
        self._calls.move_to_end(call_id)
        while len(self._calls) > _MAX_SIGNATURES:
            self._calls.popitem(last=False)
        return ToolCall(name, arguments, call_id)

    # -- errors ------------------------------------------------------------------------------

    def _error(self, exc: Exception) -> Exception:
        """Any failure as a ``ModelError``: no SDK or HTTP-library exception gets out."""
        from google.genai import errors

        if isinstance(exc, errors.APIError):
            body: dict[str, Any] = exc.details if isinstance(exc.details, dict) else {}
            error = body["error"] if isinstance(body.get("error"), dict) else body
            details = [d for d in error.get("details") or [] if isinstance(d, dict)]
            status = exc.code
            if any(d.get("reason") == "API_KEY_INVALID" for d in details):
                status = 401  # Gemini says 400 INVALID_ARGUMENT for a bad key
            message = f"{exc.status}: {exc.message}" if exc.status else str(exc.message or exc)
            return error_for_status(self.provider, status, message, _retry_after(exc, details))
        timeouts, transport = _http_errors()
        if isinstance(exc, timeouts):
            return ModelTimeout(f"google: request timed out ({type(exc).__name__})")
        if isinstance(exc, transport):
            return ModelUnavailable(f"google: connection failed: {type(exc).__name__}: {exc}")
        if isinstance(exc, ValueError | TypeError | KeyError | AttributeError):
            return ModelUnavailable(
                f"google: the response body was malformed: {type(exc).__name__}: {str(exc)[:200]}"
            )
        return ModelUnavailable(f"google: unexpected SDK failure: {type(exc).__name__}: {exc}")


def _parts(chunk: Any) -> list[Any]:
    candidate = chunk.candidates[0] if chunk.candidates else None
    content = candidate.content if candidate is not None else None
    return list(content.parts or []) if content is not None else []


def _usage(metadata: Any) -> Usage:
    """Gemini counts cached tokens inside the prompt and thinking apart from the answer;
    thinking is billed as output, so it is added to ``output_tokens`` as well."""
    if metadata is None:
        return Usage(requests=1)
    thoughts = metadata.thoughts_token_count or 0
    return Usage(
        input_tokens=(metadata.prompt_token_count or 0)
        + (metadata.tool_use_prompt_token_count or 0),
        output_tokens=(metadata.candidates_token_count or 0) + thoughts,
        cache_read_tokens=metadata.cached_content_token_count or 0,
        reasoning_tokens=thoughts,
        requests=1,
    )


def _retry_after(exc: Any, details: list[dict[str, Any]]) -> float | None:
    """The ``Retry-After`` header when present, else the body's ``google.rpc.RetryInfo``
    ``retryDelay`` (``"7s"``), which is where the Gemini API puts it on a 429."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    seconds = parse_retry_after(headers.get("retry-after"))  # httpx headers: case-insensitive
    if seconds is not None:
        return seconds
    for detail in details:
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _http_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """Timeout and transport exception classes of whichever HTTP library the SDK loaded,
    looked up in ``sys.modules`` so that none of them is imported here."""
    loaded = [(sys.modules[name], kinds) for name, kinds in _HTTP.items() if name in sys.modules]
    timeouts = (TimeoutError, *(getattr(module, kinds[0]) for module, kinds in loaded))
    transport = (OSError, *(getattr(module, kinds[1]) for module, kinds in loaded))
    return timeouts, transport

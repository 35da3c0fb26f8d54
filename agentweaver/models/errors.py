"""Provider failures mapped onto the one exception tree, the same way for every adapter.

Adapters turn SDK exceptions into an HTTP status, a message and the ``Retry-After`` header,
then call ``error_for_status``: that is the only place deciding what is retryable.
"""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime

from agentweaver.exceptions import (
    ContextLengthExceeded,
    ModelAuthError,
    ModelError,
    ModelInvalidRequest,
    ModelRateLimited,
    ModelTimeout,
    ModelUnavailable,
)

__all__ = ["error_for_status", "parse_retry_after"]

_CONTEXT = re.compile(
    r"context.{0,20}(length|window)|too (many|long).{0,20}tokens|prompt is too long|"
    r"maximum.{0,30}tokens|input.{0,20}too long|exceeds?.{0,30}(context|token)|"
    r"input tokens exceeded",
    re.IGNORECASE,
)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` (or ``retry-after-ms``) as seconds: a number, or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass  # not a number of seconds: an HTTP date, below
    try:
        return max(parsedate_to_datetime(text).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def error_for_status(
    provider: str, status: int | None, message: str, retry_after: float | None = None
) -> ModelError:
    """The typed error for an HTTP status (``None``: no response at all, a network failure)."""
    text = f"{provider}: {message}" if message else f"{provider}: HTTP {status}"
    if status is None:
        return ModelUnavailable(text)
    if status == 429:
        return ModelRateLimited(text, retry_after)
    if status in (401, 403):
        return ModelAuthError(text)
    if status in (408, 504):
        return ModelTimeout(text)
    if status == 413 or (status in (400, 422) and _CONTEXT.search(message or "")):
        return ContextLengthExceeded(text)
    if status >= 500 or status == 529:
        return ModelUnavailable(text)
    return ModelInvalidRequest(text)

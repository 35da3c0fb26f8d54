"""One error tree for the whole platform.

Class names are a wire contract: Step Functions ``Retry``/``Catch`` blocks match on the
``errorType`` a Lambda reports, which is the exception class name. Rename nothing here
without a migration. ``retryable`` says whether the default retry policy retries an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "AgentWeaverError",
    "AuthError",
    "BudgetExceeded",
    "ConfigurationError",
    "ContextLengthExceeded",
    "DefinitionError",
    "ExecutionCancelled",
    "ExecutionError",
    "InvalidData",
    "InvalidToken",
    "JwksUnavailable",
    "KeyVaultError",
    "ModelAuthError",
    "ModelError",
    "ModelInvalidRequest",
    "ModelNotConfigured",
    "ModelRateLimited",
    "ModelTimeout",
    "ModelUnavailable",
    "NoRouteMatched",
    "OutputParseError",
    "StepFailed",
    "StepTimeout",
    "StoreConflict",
    "StoreError",
    "ToolError",
    "ToolNotFound",
    "ToolTimeout",
    "ValidationIssue",
    "WorkflowValidationError",
    "error_from_name",
    "error_names",
    "retryable_error_names",
]


class AgentWeaverError(Exception):
    """Root of every error AgentWeaver raises on purpose."""

    retryable: ClassVar[bool] = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape stored in step records and returned by a Lambda."""
        return {"type": type(self).__name__, "message": str(self)}


# --- definitions and configuration: found before anything runs ------------------------


class DefinitionError(AgentWeaverError):
    """A workflow or agent definition is wrong; fix the definition, retrying cannot help."""


@dataclass(frozen=True)
class ValidationIssue:
    """One problem in a definition: where (a dotted path, and a line when known) and what."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path or "<root>"
        if self.line is not None:
            where = f"line {self.line}: {where}"
        return f"{where}: {self.message}"


class WorkflowValidationError(DefinitionError):
    """All problems found in a definition at once, so a user fixes them in one pass."""

    def __init__(self, issues: list[ValidationIssue] | str, source: str | None = None) -> None:
        self.source = source
        if isinstance(issues, str):  # rebuilt from its wire form: the rendered message
            self.issues: list[ValidationIssue] = []
            super().__init__(issues)
            return
        self.issues = list(issues)
        head = f"{source}: " if source else ""
        if len(self.issues) == 1:
            text = f"{head}invalid workflow: {self.issues[0]}"
        else:
            lines = "\n".join(f"  - {issue}" for issue in self.issues)
            text = f"{head}invalid workflow ({len(self.issues)} problems):\n{lines}"
        super().__init__(text)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["issues"] = [
            {"path": i.path, "message": i.message, "line": i.line} for i in self.issues
        ]
        return data


class ConfigurationError(AgentWeaverError):
    """The environment is missing something (an SDK, a key, a setting)."""


class ModelNotConfigured(ConfigurationError):
    """A model string names a provider that cannot be used here; the message says how to fix it."""


class KeyVaultError(ConfigurationError):
    """A provider key could not be encrypted or decrypted; the message never holds a key.

    A ``ConfigurationError`` because the cure is operational (the vault key file, KMS
    permissions, or setting the provider key again), never a retry of the same step.
    """


class AuthError(AgentWeaverError):
    """The caller could not be authenticated; the message is safe to send to that caller.

    The API answers it 401 (not the 400 other ``AgentWeaverError``s get).
    """


class InvalidToken(AuthError):
    """A bearer token was refused; ``reason`` (also the message) is safe to show the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksUnavailable(InvalidToken):
    """The pool's signing keys could not be fetched: the token is unverifiable, not wrong.

    The API answers 503 so clients retry rather than sign out.
    """


class StoreError(AgentWeaverError):
    """The execution store failed or holds something unexpected."""


class StoreConflict(StoreError):
    """A conditional write lost: the item changed since it was read (optimistic locking)."""


# --- execution: raised while a workflow runs ---------------------------------------------


class ExecutionError(AgentWeaverError):
    """Something went wrong while running a step."""


class StepFailed(ExecutionError):
    """A step raised something that is not an AgentWeaver error (a bug in user code, say)."""


class StepTimeout(ExecutionError):
    """A step attempt ran past its timeout."""

    retryable = True


class ModelError(ExecutionError):
    """A model provider refused or failed a request."""


class ModelRateLimited(ModelError):
    """The provider asked us to slow down; ``retry_after`` is its hint in seconds."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelUnavailable(ModelError):
    """Overloaded, 5xx, or a dropped connection: worth another try."""

    retryable = True


class ModelTimeout(ModelError):
    """The provider did not answer in time."""

    retryable = True


class ModelAuthError(ModelError):
    """The key is missing, wrong or lacks permission."""


class ModelInvalidRequest(ModelError):
    """The provider rejected the request as malformed."""


class ContextLengthExceeded(ModelInvalidRequest):
    """The prompt does not fit the model's context window."""


class OutputParseError(ExecutionError):
    """The model's answer did not have the declared shape (JSON, a route choice...)."""

    retryable = True


class ToolError(ExecutionError):
    """A tool failed in a way the model cannot recover from."""


class ToolNotFound(ToolError):
    """The model asked for a tool the agent does not have."""


class ToolTimeout(ToolError):
    """A tool ran past its own timeout."""

    retryable = True


class InvalidData(ExecutionError):
    """The data did not have the shape a node needs (``foreach`` over something not a list)."""


class NoRouteMatched(ExecutionError):
    """A route had no matching case and no default."""


class BudgetExceeded(ExecutionError):
    """The execution spent its token, cost or step budget; it stops cleanly, never retried."""

    def __init__(self, message: str, limit: str = "", spent: float = 0, allowed: float = 0):
        super().__init__(message)
        self.limit = limit
        self.spent = spent
        self.allowed = allowed


class ExecutionCancelled(ExecutionError):
    """Someone cancelled the execution."""


# --- names: the contract with ASL -------------------------------------------------------


def _walk(cls: type[AgentWeaverError]) -> list[type[AgentWeaverError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_walk(sub))
    return found


def error_names() -> dict[str, type[AgentWeaverError]]:
    """Every error class by name: what a retry policy's ``errors`` list may mention."""
    return {cls.__name__: cls for cls in _walk(AgentWeaverError)}


def retryable_error_names() -> list[str]:
    """Names retried by the default policy, sorted so compiled ASL is deterministic."""
    return sorted(name for name, cls in error_names().items() if cls.retryable)


def error_from_name(name: str, message: str) -> AgentWeaverError:
    """Rebuild an error from its wire form (a step record, a Lambda error)."""
    cls = error_names().get(name, StepFailed)
    try:
        return cls(message)
    except TypeError:  # an error whose constructor needs more than a message
        return StepFailed(f"{name}: {message}")

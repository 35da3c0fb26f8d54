"""One stage's settings, read from CDK context, validated before any construct is built.

Why a frozen dataclass and not context look-ups spread over the constructs: every name the
Python side depends on (table prefix, state machine prefix, schedule group) derives from one
``prefix`` here, so two stages in one account cannot drift apart or collide, and the tests
build the same object the CDK app does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["REPO_ROOT", "ConfigError", "StageConfig"]

REPO_ROOT = Path(__file__).resolve().parents[2]
# IAM and the status-change rule match a stage's run-time resources by prefix: state
# machines "<prefix>-*", executions "<prefix>-*:*" (schedules by their group "<prefix>/*",
# an exact name). Stage "dev"'s "agentweaver-dev-*" must not match another stage's
# "agentweaver-dev-2-..." or "agentweaver-dev2-...", so no prefix may start with another
# prefix followed by "-". Hence: a stage has no hyphen, and a prefix has exactly one (the
# default "agentweaver-<stage>" included): a prefix that starts with "<other prefix>-"
# would have two.
_STAGE = re.compile(r"^[a-z][a-z0-9]{0,15}$")
_PREFIX = re.compile(r"^(?=.{3,32}$)[a-z][a-z0-9]*-[a-z0-9]+$")
_ARCHITECTURES = ("arm64", "x86_64")


class ConfigError(ValueError):
    """A context value that cannot be deployed; the message names the context key."""


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"expected true/false, got {value!r}")


def _number(get: Callable[[str], Any], key: str, default: float) -> float:
    value = get(key)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"context {key}: expected a number, got {value!r}") from None
    if number <= 0:
        raise ConfigError(f"context {key}: must be positive, got {value!r}")
    return number


@dataclass(frozen=True)
class StageConfig:
    """Everything a stage's stack needs; ``from_context`` is what ``infra/app.py`` uses."""

    stage: str = "dev"
    prefix: str = ""
    layer_dir: Path = REPO_ROOT / "build" / "layer"
    console_dir: Path = REPO_ROOT / "frontend" / "dist"
    functions_dir: Path = REPO_ROOT / "functions"
    project_root: Path = REPO_ROOT
    asset_dir: Path = REPO_ROOT / "build" / "assets"
    statemachines_dir: Path = REPO_ROOT / "statemachines"
    architecture: str = "arm64"
    log_level: str = "INFO"
    retain_data: bool | None = None
    example_state_machines: bool = False
    alarm_email: str = ""
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    throttle_rate: float = 50
    throttle_burst: float = 100
    daily_cost_alarm_usd: float = 10
    step_p95_alarm_ms: float = 120_000
    log_retention_days: int = 30
    payload_retention_days: int = 90
    inbox_retention_days: int = 30

    def __post_init__(self) -> None:
        if not _STAGE.match(self.stage):
            raise ConfigError(
                f"context stage: {self.stage!r} must be 1-16 lowercase letters or digits, "
                "starting with a letter (no hyphen)"
            )
        if not self.prefix:
            object.__setattr__(self, "prefix", f"agentweaver-{self.stage}")
        if not _PREFIX.match(self.prefix):
            raise ConfigError(
                f"context prefix: {self.prefix!r} must be 3-32 lowercase letters or digits "
                "with exactly one hyphen, like 'acme-qa' (it names tables, state machines and "
                "the schedule group; IAM matches '<prefix>-*', so one stage's prefix must "
                "never start with another's plus '-')"
            )
        if self.architecture not in _ARCHITECTURES:
            raise ConfigError(
                f"context architecture: {self.architecture!r} is not one of "
                f"{', '.join(_ARCHITECTURES)}"
            )
        if self.retain_data is None:
            object.__setattr__(self, "retain_data", self.stage == "prod")

    @property
    def keeps_data(self) -> bool:
        """Whether tables, the provider-key KMS key and the artifacts bucket outlive the stack."""
        return bool(self.retain_data)

    def service(self, function: str) -> str:
        """``POWERTOOLS_SERVICE_NAME``: the metric dimension, stage-qualified so two stages'
        metrics in the shared ``AgentWeaver`` namespace stay apart."""
        return f"{self.prefix}-{function}"

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> StageConfig:
        """Build from ``app.node.try_get_context``; unset keys keep the defaults above."""

        def path(key: str, default: Path) -> Path:
            value = get(key)
            return Path(str(value)).expanduser().resolve() if value else default

        origins = get("corsOrigins") or ""
        if isinstance(origins, str):
            origins = [o.strip() for o in origins.split(",") if o.strip()]
        try:
            retain = get("retainData")
            return cls(
                stage=str(get("stage") or "dev"),
                prefix=str(get("prefix") or ""),
                layer_dir=path("layerDir", cls.layer_dir),
                console_dir=path("consoleDir", cls.console_dir),
                functions_dir=path("functionsDir", cls.functions_dir),
                project_root=path("projectRoot", Path.cwd()),
                asset_dir=path("assetDir", cls.asset_dir),
                statemachines_dir=path("statemachinesDir", cls.statemachines_dir),
                architecture=str(get("architecture") or "arm64"),
                log_level=str(get("logLevel") or "INFO").upper(),
                retain_data=None if retain in (None, "") else _flag(retain, False),
                example_state_machines=_flag(get("exampleStateMachines"), False),
                alarm_email=str(get("alarmEmail") or ""),
                cors_origins=tuple(origins),
                throttle_rate=_number(get, "throttleRate", 50),
                throttle_burst=_number(get, "throttleBurst", 100),
                daily_cost_alarm_usd=_number(get, "dailyCostAlarmUsd", 10),
                step_p95_alarm_ms=_number(get, "stepP95AlarmMs", 120_000),
            )
        except ConfigError:
            raise
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

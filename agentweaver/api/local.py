"""The embedded composition root: SQLite store, ``LocalExecutor``, local key vault and token.

``agentweaver serve`` builds its app here; tests build the same thing on a temporary home.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agentweaver.api.auth import Authenticator
from agentweaver.api.metrics import Metrics
from agentweaver.api.services import Services
from agentweaver.executors.local import LocalExecutor
from agentweaver.models.base import Model
from agentweaver.models.keys import EnvKeys, KeySource

__all__ = ["ChainKeys", "local_services"]


class ChainKeys:
    """The first source that has a key: the tenant's stored keys, then the environment."""

    def __init__(self, *sources: KeySource) -> None:
        self.sources = sources

    def get(self, provider: str, env_vars: Sequence[str]) -> str | None:
        for source in self.sources:
            key = source.get(provider, env_vars)
            if key:
                return key
        return None

    def __repr__(self) -> str:
        return f"ChainKeys({', '.join(type(s).__name__ for s in self.sources)})"


def local_services(
    home: Path,
    *,
    model_override: Model | str | None = None,
    max_concurrent: int = 4,
    owner: str = "local",
    code_modules: tuple[str, ...] | None = None,
) -> tuple[Services, str]:
    """The services of an embedded server, and its local token (printed by ``serve``).
    ``code_modules``: the project's agent modules, imported now (see ``runtime.user_code``);
    by default those ``AGENTWEAVER_MODULES`` names."""
    from agentweaver.keys.vault import LocalKeyVault, VaultKeySource
    from agentweaver.runtime.user_code import load_user_modules, modules_from_env
    from agentweaver.security.local_token import load_or_create_local_token
    from agentweaver.stores.sqlite import SQLiteStore

    modules = load_user_modules(modules_from_env() if code_modules is None else code_modules)
    home.mkdir(parents=True, exist_ok=True)
    store = SQLiteStore(home / "agentweaver.db")
    vault = LocalKeyVault(home)
    token = load_or_create_local_token(home)
    metrics = Metrics()
    executor = LocalExecutor(
        store,
        max_concurrent=max_concurrent,
        model_override=model_override,
        keys_for=lambda who: ChainKeys(VaultKeySource(store, vault, who), EnvKeys()),
        sandbox_root=home / "sandbox",
        on_finished=metrics.finished,
        code_modules=modules,
    )
    auth = Authenticator(store, local_token=token, local_owner=owner)
    services = Services(store=store, executor=executor, auth=auth, vault=vault, metrics=metrics,
                        code_modules=modules)  # fmt: skip
    return services, token

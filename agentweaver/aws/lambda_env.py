"""The agent-step function's ``StepEnvironment``, from its Lambda environment variables.

* ``AGENTWEAVER_WORKFLOWS``: a directory of workflow files packaged with the function
  (YAML/JSON); a Task's ``workflow`` names one by its workflow name.
* ``AGENTWEAVER_STORE``: ``dynamodb`` (tables ``AGENTWEAVER_TABLE_PREFIX``-*) or
  ``sqlite:///path``; unset means steps are not recorded.
* ``AGENTWEAVER_PAYLOAD_BUCKET`` (+ ``AGENTWEAVER_PAYLOAD_PREFIX``): offloaded payloads in
  S3; or ``AGENTWEAVER_PAYLOAD_DIR`` for a directory. ``AGENTWEAVER_OFFLOAD_BYTES`` sets the
  threshold (default 65536).
* ``AGENTWEAVER_MODEL_OVERRIDE``: one model for every step (``test`` for dry runs).
* ``AGENTWEAVER_MODULES``: the project's own modules (agents as code), imported at start.
* ``AGENTWEAVER_KMS_KEY_ID``: the key that decrypts each owner's stored provider keys.

Every problem is a ``ConfigurationError`` naming the variable, raised on the first call.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from agentweaver.exceptions import ConfigurationError, DefinitionError
from agentweaver.models.keys import KeySource
from agentweaver.runtime.payloads import DirectoryPayloads, PayloadStore
from agentweaver.runtime.serverless import LoadedWorkflow, StepEnvironment, WorkflowSource
from agentweaver.runtime.user_code import (
    load_user_modules,
    modules_from_env,
    refuse_foreign_code,
)
from agentweaver.stores.base import Store
from agentweaver.workflow.binding import bind_agents

__all__ = ["DirectoryWorkflows", "StoreWorkflows", "environment_from_env", "store_from_env"]


class DirectoryWorkflows:
    """Workflows from the files of one directory, found by name, loaded once each."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise ConfigurationError(f"AGENTWEAVER_WORKFLOWS: {self.root} is not a directory")
        self._index: dict[str, LoadedWorkflow] | None = None
        self._lock = threading.Lock()

    def __call__(self, owner: str, name: str) -> LoadedWorkflow:
        with self._lock:
            if self._index is None:
                self._index = self._load()
        found = self._index.get(name)
        if found is None:
            raise DefinitionError(f"no workflow named {name!r} is packaged with this function")
        return found

    def _load(self) -> dict[str, LoadedWorkflow]:
        from agentweaver.workflow.loader import load_workflow

        index: dict[str, LoadedWorkflow] = {}
        for path in sorted(self.root.iterdir()):
            if path.suffix in (".yaml", ".yml", ".json") and not path.name.endswith(".asl.json"):
                workflow = load_workflow(path)
                index[workflow.name] = LoadedWorkflow(workflow, bind_agents(workflow.agents))
        return index


class StoreWorkflows:
    """Workflows saved through the API, by ``<workflow id>@<version>`` and owner."""

    def __init__(self, store: Store, code_modules: tuple[str, ...] = ()) -> None:
        """``code_modules``: the agent modules a saved definition may import (checked again
        here, before binding: a definition is a tenant's data)."""
        self.store = store
        self.code_modules = code_modules
        self._cache: dict[tuple[str, str], LoadedWorkflow] = {}
        self._lock = threading.Lock()

    def __call__(self, owner: str, ref: str) -> LoadedWorkflow:
        workflow_id, _, version = ref.partition("@")
        with self._lock:
            found = self._cache.get((owner, ref))
        if found is not None:
            return found
        record = self.store.get_workflow(owner, workflow_id)
        if record is None:
            raise DefinitionError(f"workflow {workflow_id!r} does not exist (any more)")
        if version and str(record.version) != version:
            raise DefinitionError(
                f"workflow {workflow_id!r} is at version {record.version}, this execution "
                f"was started on version {version}"
            )
        from agentweaver.workflow.definition import WorkflowDefinition
        from agentweaver.workflow.ir import build_workflow

        definition = WorkflowDefinition.model_validate(record.definition)
        refuse_foreign_code(definition, self.code_modules)
        ir = build_workflow(definition)
        loaded = LoadedWorkflow(ir, bind_agents(ir.agents))
        with self._lock:
            self._cache[(owner, ref)] = loaded
        return loaded


def store_from_env() -> Store | None:
    """``AGENTWEAVER_STORE``: ``dynamodb`` (tables ``AGENTWEAVER_TABLE_PREFIX``-*) or
    ``sqlite:///path``; unset means no store."""
    value = os.environ.get("AGENTWEAVER_STORE", "")
    if not value:
        return None
    if value == "dynamodb":
        from agentweaver.aws.dynamodb_store import DynamoDBStore

        return DynamoDBStore(table_prefix=os.environ.get("AGENTWEAVER_TABLE_PREFIX", "agentweaver"))
    if value.startswith("sqlite://"):
        from agentweaver.stores.sqlite import SQLiteStore

        return SQLiteStore(value.removeprefix("sqlite://") or ":memory:")
    raise ConfigurationError(f"AGENTWEAVER_STORE: unsupported store {value!r}")


def _payloads() -> PayloadStore | None:
    bucket = os.environ.get("AGENTWEAVER_PAYLOAD_BUCKET", "")
    if bucket:
        from agentweaver.aws.payloads import S3Payloads

        return S3Payloads(bucket, os.environ.get("AGENTWEAVER_PAYLOAD_PREFIX", "payloads"))
    directory = os.environ.get("AGENTWEAVER_PAYLOAD_DIR", "")
    return DirectoryPayloads(directory) if directory else None


def environment_from_env() -> StepEnvironment:
    root = os.environ.get("AGENTWEAVER_WORKFLOWS", "")
    store = store_from_env()
    if not root and store is None:
        raise ConfigurationError(
            "AGENTWEAVER_WORKFLOWS is not set: where are the workflows? (a directory of "
            "workflow files, or AGENTWEAVER_STORE for workflows saved through the API)"
        )
    try:
        offload = int(os.environ.get("AGENTWEAVER_OFFLOAD_BYTES", "65536"))
    except ValueError:
        raise ConfigurationError("AGENTWEAVER_OFFLOAD_BYTES must be a number of bytes") from None
    override = os.environ.get("AGENTWEAVER_MODEL_OVERRIDE", "")
    model = None
    if override:
        from agentweaver.models.registry import infer_model

        model = infer_model(override)
    modules = load_user_modules(modules_from_env())
    workflows: WorkflowSource
    if root:
        workflows = DirectoryWorkflows(root)
    else:
        assert store is not None
        workflows = StoreWorkflows(store, modules)
    return StepEnvironment(
        workflows=workflows,
        store=store,
        payloads=_payloads(),
        model_override=model,
        offload_bytes=offload,
        keys_for=_keys_for(store),
    )


def _keys_for(store: Store | None) -> Callable[[str], KeySource] | None:
    """Each owner's provider keys from the store, decrypted by KMS one at a time as a step
    needs them (``AGENTWEAVER_KMS_KEY_ID``); without a key id, the function's environment."""
    key_id = os.environ.get("AGENTWEAVER_KMS_KEY_ID", "")
    if not key_id or store is None:
        return None
    from agentweaver.aws.kms_vault import KmsKeyVault
    from agentweaver.keys.vault import VaultKeySource

    vault = KmsKeyVault(key_id)
    return lambda owner: VaultKeySource(store, vault, owner)

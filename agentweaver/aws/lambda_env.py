"""The agent-step function's ``StepEnvironment``, from its Lambda environment variables.

* ``AGENTWEAVER_WORKFLOWS``: a directory of workflow files packaged with the function
  (YAML/JSON); a Task's ``workflow`` names one by its workflow name.
* ``AGENTWEAVER_STORE``: ``sqlite:///path`` (the DynamoDB store is selected here once it
  exists); unset means steps are not recorded.
* ``AGENTWEAVER_PAYLOAD_BUCKET`` (+ ``AGENTWEAVER_PAYLOAD_PREFIX``): offloaded payloads in
  S3; or ``AGENTWEAVER_PAYLOAD_DIR`` for a directory. ``AGENTWEAVER_OFFLOAD_BYTES`` sets the
  threshold (default 65536).
* ``AGENTWEAVER_MODEL_OVERRIDE``: one model for every step (``test`` for dry runs).

Every problem is a ``ConfigurationError`` naming the variable, raised on the first call.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from agentweaver.exceptions import ConfigurationError, DefinitionError
from agentweaver.runtime.payloads import DirectoryPayloads, PayloadStore
from agentweaver.runtime.serverless import LoadedWorkflow, StepEnvironment
from agentweaver.stores.base import Store
from agentweaver.workflow.binding import bind_agents

__all__ = ["DirectoryWorkflows", "environment_from_env"]


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


def _store(value: str) -> Store | None:
    if not value:
        return None
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
    if not root:
        raise ConfigurationError("AGENTWEAVER_WORKFLOWS is not set: where are the workflows?")
    try:
        offload = int(os.environ.get("AGENTWEAVER_OFFLOAD_BYTES", "65536"))
    except ValueError:
        raise ConfigurationError("AGENTWEAVER_OFFLOAD_BYTES must be a number of bytes") from None
    override = os.environ.get("AGENTWEAVER_MODEL_OVERRIDE", "")
    model = None
    if override:
        from agentweaver.models.registry import infer_model

        model = infer_model(override)
    return StepEnvironment(
        workflows=DirectoryWorkflows(root),
        store=_store(os.environ.get("AGENTWEAVER_STORE", "")),
        payloads=_payloads(),
        model_override=model,
        offload_bytes=offload,
    )

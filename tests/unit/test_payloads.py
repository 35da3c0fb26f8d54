"""Payload offloading (inline below the threshold, content-addressed refs above, safe resolve)
and the agent-step Lambda's wiring: ``environment_from_env`` and the real handler module."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from support.moto_sfn import ROOT, load_handler

from agentweaver.aws.lambda_env import environment_from_env
from agentweaver.aws.payloads import S3Payloads
from agentweaver.exceptions import (
    ConfigurationError,
    DefinitionError,
    InvalidData,
    StoreError,
    ToolError,
)
from agentweaver.models.test import TestModel
from agentweaver.runtime.payloads import REF_KEY, DirectoryPayloads, Payloads, is_ref
from agentweaver.runtime.serverless import StepEnvironment
from agentweaver.stores.sqlite import SQLiteStore

BIG = {"text": "x" * 2000, "n": 1}  # ~2 KB of JSON


def encoded(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.fixture
def store(tmp_path: Path) -> DirectoryPayloads:
    return DirectoryPayloads(tmp_path / "payloads")


def files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_small_values_stay_inline(store: DirectoryPayloads) -> None:
    p = Payloads(store, "o", "e1", 1024)
    for value in [{"a": 1}, "short", [1, 2, 3], None, True, 7, 2.5]:
        assert p.offload(value, "step") == value
    assert files(store.root) == []


def test_scalars_and_no_store_never_offload(store: DirectoryPayloads) -> None:
    assert Payloads(store, "o", "e1", 1).offload(10**300) == 10**300
    assert Payloads(None, "o", "e1", 1).offload(BIG) == BIG
    assert files(store.root) == []


def test_threshold_has_a_floor_of_256_bytes(store: DirectoryPayloads) -> None:
    p = Payloads(store, "o", "e1", 10)
    value = "y" * 200  # over the threshold, but a reference would not be smaller
    assert p.offload(value) == value
    assert is_ref(p.offload("y" * 300))


def test_large_value_becomes_a_ref_and_round_trips(store: DirectoryPayloads) -> None:
    p = Payloads(store, "o", "e1", 1024)
    ref = p.offload(BIG, "step")
    data = encoded(BIG)
    digest = hashlib.sha256(data).hexdigest()
    assert ref == {REF_KEY: f"o/e1/{digest}.json", "bytes": len(data), "sha256": digest}
    assert is_ref(ref)
    assert (store.root / "o" / "e1" / f"{digest}.json").read_bytes() == data
    assert p.resolve(ref) == BIG
    # content-addressed: the same value again is the same object, not a second file
    assert p.offload(json.loads(json.dumps(BIG))) == ref
    assert len(files(store.root)) == 1


def test_room_lowers_the_threshold(store: DirectoryPayloads) -> None:
    p = Payloads(store, "o", "e1", 64 * 1024)
    assert p.offload(BIG) == BIG
    assert p.offload(BIG, room=1000) != BIG
    assert is_ref(p.offload(BIG, room=1000))
    # room never raises the threshold
    assert is_ref(Payloads(store, "o", "e1", 1000).offload(BIG, room=10**6))


@pytest.mark.parametrize(("owner", "execution"), [("o", "e2"), ("o2", "e1"), ("o", "e")])
def test_refs_from_another_execution_are_refused(
    store: DirectoryPayloads, owner: str, execution: str
) -> None:
    ref = Payloads(store, "o", "e1", 1024).offload(BIG)
    with pytest.raises(InvalidData, match="another execution"):
        Payloads(store, owner, execution, 1024).resolve(ref)


def test_ref_nested_in_a_value_from_another_execution_is_refused(
    store: DirectoryPayloads,
) -> None:
    ref = Payloads(store, "o", "e1", 1024).offload(BIG)
    with pytest.raises(InvalidData):
        Payloads(store, "o", "e2", 1024).resolve({"list": [1, {"deep": ref}]})


def test_tampered_content_is_a_store_error(store: DirectoryPayloads) -> None:
    p = Payloads(store, "o", "e1", 1024)
    ref = p.offload(BIG)
    path = store.root / ref[REF_KEY]
    path.write_bytes(encoded({**BIG, "n": 2}))
    with pytest.raises(StoreError, match="digest"):
        p.resolve(ref)


def test_ref_with_a_wrong_digest_is_a_store_error(store: DirectoryPayloads) -> None:
    p = Payloads(store, "o", "e1", 1024)
    ref = p.offload(BIG)
    with pytest.raises(StoreError, match="digest"):
        p.resolve({**ref, "sha256": "0" * 64})
    with pytest.raises(StoreError, match="digest"):
        p.resolve({REF_KEY: ref[REF_KEY]})


def test_missing_payload_and_missing_store_are_store_errors(store: DirectoryPayloads) -> None:
    p = Payloads(store, "o", "e1", 1024)
    with pytest.raises(StoreError, match="missing"):
        p.resolve({REF_KEY: f"o/e1/{'a' * 64}.json", "sha256": "a" * 64})
    ref = p.offload(BIG)
    with pytest.raises(StoreError, match="no payload store"):
        Payloads(None, "o", "e1", 1024).resolve(ref)


def test_resolve_walks_lists_and_dicts(store: DirectoryPayloads) -> None:
    p = Payloads(store, "o", "e1", 1024)
    other = {"items": ["z" * 1500]}
    ref1, ref2 = p.offload(BIG), p.offload(other)
    assert is_ref(ref1)
    assert is_ref(ref2)
    value = {"a": [ref1, 1, "s"], "b": {"c": ref2, "d": None}, "e": [[ref2]]}
    assert p.resolve(value) == {"a": [BIG, 1, "s"], "b": {"c": other, "d": None}, "e": [[other]]}
    assert p.resolve([1, "two", None]) == [1, "two", None]
    # a dict whose agentweaver_ref is not a string is data, not a reference
    assert p.resolve({REF_KEY: 3}) == {REF_KEY: 3}


@pytest.mark.parametrize(
    "key",
    [
        "o/e1/../x.json",
        "o/../x.json",
        "../e1/x.json",
        "o/e1",
        "o/e1/a/b.json",
        "o//x.json",
        "o/e1/.",
        "o/e1/..",
        "o\\e1/x/y.json",
        "",
    ],
)
def test_directory_payloads_refuse_bad_keys(store: DirectoryPayloads, key: str) -> None:
    with pytest.raises(InvalidData, match="not <owner>/<execution>/<name>"):
        store.put(key, b"{}")
    with pytest.raises(InvalidData):
        store.get(key)
    assert files(store.root.parent) == []


def test_directory_payloads_write_atomically(store: DirectoryPayloads) -> None:
    store.put("o/e1/a.json", b"one")
    store.put("o/e1/a.json", b"two")
    assert store.get("o/e1/a.json") == b"two"
    assert [p.name for p in files(store.root)] == ["a.json"]  # no temporary file left


def test_payloads_refuse_unsafe_owner_or_execution(store: DirectoryPayloads) -> None:
    for owner, execution in [("..", "e1"), ("o", "a/b"), ("/abs", "e1"), ("o", "")]:
        with pytest.raises(ToolError, match="cannot name"):
            Payloads(store, owner, execution, 1024)


# --- S3 ----------------------------------------------------------------------------------


@pytest.fixture
def s3() -> Any:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="payload-bucket")
        yield client


def test_s3_payloads_round_trip(s3: Any) -> None:
    store = S3Payloads("payload-bucket", "/runs/", client=s3)
    p = Payloads(store, "o", "e1", 1024)
    ref = p.offload(BIG)
    assert is_ref(ref)
    obj = s3.get_object(Bucket="payload-bucket", Key=f"runs/{ref[REF_KEY]}")
    assert obj["Body"].read() == encoded(BIG)
    assert obj["ContentType"] == "application/json"
    assert p.resolve({"wrapped": [ref]}) == {"wrapped": [BIG]}


def test_s3_payloads_without_prefix(s3: Any) -> None:
    store = S3Payloads("payload-bucket", "", client=s3)
    store.put("o/e1/k.json", b"[1]")
    listed = s3.list_objects_v2(Bucket="payload-bucket")["Contents"]
    assert [o["Key"] for o in listed] == ["o/e1/k.json"]
    assert store.get("o/e1/k.json") == b"[1]"


def test_s3_missing_object_or_bucket_is_a_store_error(s3: Any) -> None:
    store = S3Payloads("payload-bucket", client=s3)
    with pytest.raises(StoreError, match="could not read payload"):
        store.get("o/e1/missing.json")
    p = Payloads(store, "o", "e1", 1024)
    with pytest.raises(StoreError):
        p.resolve({REF_KEY: "o/e1/nothing.json", "sha256": "0" * 64})
    with pytest.raises(StoreError, match="could not offload"):
        S3Payloads("no-such-bucket", client=s3).put("o/e1/k.json", b"{}")


def test_s3_tampered_object_is_refused(s3: Any) -> None:
    store = S3Payloads("payload-bucket", client=s3)
    p = Payloads(store, "o", "e1", 1024)
    ref = p.offload(BIG)
    s3.put_object(Bucket="payload-bucket", Key=f"payloads/{ref[REF_KEY]}", Body=b'"evil"')
    with pytest.raises(StoreError, match="digest"):
        p.resolve(ref)


# --- the Lambda's wiring: environment variables and the handler ---------------------------


def event(mode: str, value: Any, **fields: Any) -> dict[str, Any]:
    state = {"execution_id": "e1", "owner": "o", "value": value}
    return {"mode": mode, "workflow": "w", "execution_id": "e1", "owner": "o", "state": state,
            **fields}  # fmt: skip


WORKFLOW_YAML = "name: w\nagents:\n  a: {role: Analyst, model: test}\nflow: a\n"


@pytest.fixture
def lambda_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "wf").mkdir()
    (tmp_path / "wf" / "w.yaml").write_text(WORKFLOW_YAML)
    (tmp_path / "wf" / "w.asl.json").write_text("not a workflow")  # compiled output: skipped
    monkeypatch.setenv("AGENTWEAVER_WORKFLOWS", str(tmp_path / "wf"))
    monkeypatch.setenv("AGENTWEAVER_STORE", f"sqlite://{tmp_path}/s.db")
    monkeypatch.setenv("AGENTWEAVER_MODEL_OVERRIDE", "test")
    monkeypatch.setenv("AGENTWEAVER_PAYLOAD_DIR", str(tmp_path / "payloads"))
    monkeypatch.setenv("AGENTWEAVER_OFFLOAD_BYTES", "2048")
    return tmp_path


def test_environment_from_env(lambda_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = environment_from_env()
    assert isinstance(env.store, SQLiteStore)
    assert env.store.path == f"{lambda_env}/s.db"
    assert isinstance(env.payloads, DirectoryPayloads)
    assert env.payloads.root == lambda_env / "payloads"
    assert isinstance(env.model_override, TestModel)
    assert env.offload_bytes == 2048
    loaded = env.workflows("o", "w")
    assert loaded.workflow.name == "w"
    assert list(loaded.agents) == ["a"]
    assert env.workflows("o", "w") is loaded
    with pytest.raises(DefinitionError, match="'missing'"):
        env.workflows("o", "missing")
    monkeypatch.setenv("AGENTWEAVER_PAYLOAD_BUCKET", "bucket")
    monkeypatch.setenv("AGENTWEAVER_PAYLOAD_PREFIX", "pre")
    monkeypatch.delenv("AGENTWEAVER_STORE")
    s3 = environment_from_env()
    assert isinstance(s3.payloads, S3Payloads)
    assert (s3.payloads.bucket, s3.payloads.prefix, s3.store) == ("bucket", "pre", None)


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("AGENTWEAVER_WORKFLOWS", None, "AGENTWEAVER_WORKFLOWS"),
        ("AGENTWEAVER_WORKFLOWS", "/nonexistent/dir", "AGENTWEAVER_WORKFLOWS"),
        ("AGENTWEAVER_OFFLOAD_BYTES", "64k", "AGENTWEAVER_OFFLOAD_BYTES"),
        ("AGENTWEAVER_STORE", "dynamodb://table", "AGENTWEAVER_STORE"),
    ],
)
def test_environment_problems_name_the_variable(
    lambda_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str | None, named: str
) -> None:
    if value is None:  # no workflow files and no store to find saved workflows in
        monkeypatch.delenv(name)
        monkeypatch.delenv("AGENTWEAVER_STORE")
    else:
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=named):
        environment_from_env()


def test_handler_builds_its_environment_and_runs_a_step(lambda_env: Path) -> None:
    module = load_handler()
    assert module.ENVIRONMENT is None
    state = module.handler(event("step", "hello there", node_id="a", agent="a", step_id="a"), None)
    assert state["value"] == "Analyst: hello there"
    env = module.ENVIRONMENT
    assert isinstance(env, StepEnvironment)
    assert isinstance(env.store, SQLiteStore)
    record = env.store.get_step("e1", "a")
    assert record is not None
    assert record.status == "succeeded"
    finished = module.handler(event("finish", state["value"], status="succeeded"), None)
    assert finished["status"] == "succeeded"
    assert module.ENVIRONMENT is env  # kept while warm
    execution = env.store.get_execution("o", "e1")
    assert execution is not None
    assert execution.output == "Analyst: hello there"


def test_handler_imports_in_a_fresh_interpreter() -> None:
    """A cold start imports the runtime before anything else: no import cycle may bite."""
    path = ROOT / "functions" / "agent_step" / "handler.py"
    code = (
        "import importlib.util as u\n"
        f"s = u.spec_from_file_location('handler', {str(path)!r})\n"
        "m = u.module_from_spec(s); s.loader.exec_module(m)\n"
        "import agentweaver.runtime.serverless as core\n"
        "assert m.handle_step_event is core.handle_step_event\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr

"""File tools on the S3 backend under moto: the same probes as locally, checked on the bucket.

Keys are ``<prefix>/<tenant>/<execution id>/<path>``. Every probe must fail and leave the
bucket's key set unchanged; neighbours (another tenant, another execution, and a sibling
``e1-evil`` prefix that starts like ``e1``) are seeded so a leak would be visible.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("moto")
pytest.importorskip("boto3")

from agentweaver.exceptions import ConfigurationError, ToolError
from agentweaver.tools import ToolContext
from agentweaver.tools.builtin.files import TOOLS, list_files, read_file, write_file

BUCKET = "aw-sandbox-test"
NEIGHBOURS = {
    "sandbox/globex/e1/secret.txt": b"globex secret",
    "sandbox/acme/e2/secret.txt": b"other execution",
    "sandbox/acme/e1-evil/leak.txt": b"sibling prefix",
    "sandbox/acme/e1x.txt": b"sibling key",
    "etc/passwd": b"root:x:0:0",
    "x": b"bucket root",
}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto import mock_aws

    from agentweaver.aws.s3_sandbox import default_client

    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = default_client()  # the tools' own shared client: built once, not per test
        client.create_bucket(Bucket=BUCKET)
        for key, body in NEIGHBOURS.items():
            client.put_object(Bucket=BUCKET, Key=key, Body=body)
        yield client


def keys(client: Any) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            found[item["Key"]] = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
    return found


def ctx_for(tenant: str = "acme", execution: str = "e1", **settings: Any) -> ToolContext:
    config = {"backend": "s3", "bucket": BUCKET, **settings}
    return ToolContext(tenant, execution, "s1", None, {"files": config})


PROBES = [
    "../x", "../../x", "../../etc/passwd", "../../../etc/passwd", "/etc/passwd", "a/../../x",
    "a/../b", "..", "..\\x", "%2e%2e/x", "%252e%252e/x", "..%2fx", "%2F..%2Fx", "x\x00y",
    "C:\\x", "~/x", "．．/x", "../e1-evil/leak.txt", "../e2/secret.txt",
    "../../globex/e1/secret.txt", "x" * 5000, "a/" * 600 + "x", "n" * 300, "", "  ",
]  # fmt: skip


@pytest.mark.parametrize("path", PROBES)
async def test_probes_fail_and_leave_the_bucket_alone(s3: Any, path: str) -> None:
    before = keys(s3)
    with pytest.raises(ToolError):
        await write_file.call({"path": path, "content": "pwned"}, ctx_for())
    with pytest.raises(ToolError):
        await read_file.call({"path": path}, ctx_for())
    assert keys(s3) == before


@pytest.mark.parametrize("path", ["..", "../", "/", "%2e%2e", "../e1-evil", "~"])
async def test_list_probes_fail(s3: Any, path: str) -> None:
    with pytest.raises(ToolError):
        await list_files.call({"path": path}, ctx_for())


@pytest.mark.parametrize(
    ("tenant", "execution"),
    [("../globex", "e1"), ("acme/../globex", "e1"), ("acme", "../e2"), ("acme", "e1/x"),
     ("..", "e1"), ("acme", ""), ("", "e1"), ("a\\b", "e1")],
)  # fmt: skip
async def test_unsafe_tenant_or_execution_ids_are_refused(
    s3: Any, tenant: str, execution: str
) -> None:
    before = keys(s3)
    with pytest.raises(ToolError, match="cannot name a sandbox"):
        await write_file.call({"path": "x.txt", "content": "x"}, ctx_for(tenant, execution))
    assert keys(s3) == before


async def test_sibling_prefixes_do_not_show_up(s3: Any) -> None:
    await write_file.call({"path": "mine.txt", "content": "mine"}, ctx_for())
    listing = await list_files.call({}, ctx_for())
    assert listing["entries"] == [{"name": "mine.txt", "size": 4}]


@pytest.mark.parametrize(
    ("path", "key"),
    [("notes/day/one.txt", "notes/day/one.txt"), ("./a/./b.txt", "a/b.txt"),
     ("a..b.txt", "a..b.txt"), ("a\\b.txt", "a/b.txt"), ("100%.txt", "100%.txt"),
     ("日本語/naïve café.txt", "日本語/naïve café.txt")],
)  # fmt: skip
async def test_positive_paths(s3: Any, path: str, key: str) -> None:
    assert await write_file.call({"path": path, "content": f"hi {path}"}, ctx_for())
    assert keys(s3)[f"sandbox/acme/e1/{key}"] == f"hi {path}".encode()
    assert await read_file.call({"path": path}, ctx_for()) == f"hi {path}"


async def test_list_overwrite_and_tree_conflicts(s3: Any) -> None:
    ctx = ctx_for()
    await write_file.call({"path": "a/b.txt", "content": "long content"}, ctx)
    await write_file.call({"path": "a/b.txt", "content": "short"}, ctx)
    await write_file.call({"path": "top.md", "content": "é"}, ctx)
    s3.put_object(Bucket=BUCKET, Key="sandbox/acme/e1/a/", Body=b"")  # a console "folder"
    assert await read_file.call({"path": "a/b.txt"}, ctx) == "short"
    assert (await list_files.call({}, ctx))["entries"] == [
        {"name": "a/"},
        {"name": "top.md", "size": 2},
    ]
    assert (await list_files.call({"path": "a"}, ctx))["entries"] == [{"name": "b.txt", "size": 5}]
    with pytest.raises(ToolError, match="is a directory"):
        await read_file.call({"path": "a"}, ctx)
    with pytest.raises(ToolError, match="is a directory"):
        await write_file.call({"path": "a", "content": "x"}, ctx)
    with pytest.raises(ToolError, match=r"parent .* is a file"):
        await write_file.call({"path": "top.md/x", "content": "x"}, ctx)
    with pytest.raises(ToolError, match="is a file"):
        await list_files.call({"path": "top.md"}, ctx)
    with pytest.raises(ToolError, match="does not exist"):
        await read_file.call({"path": "missing.txt"}, ctx)
    with pytest.raises(ToolError, match="does not exist"):
        await list_files.call({"path": "nowhere"}, ctx)


async def test_size_limit_read_only_and_binary(s3: Any) -> None:
    small = ctx_for(max_bytes=10)
    with pytest.raises(ToolError, match="over the 10-byte limit"):
        await write_file.call({"path": "big.txt", "content": "x" * 11}, small)
    assert "sandbox/acme/e1/big.txt" not in keys(s3)
    s3.put_object(Bucket=BUCKET, Key="sandbox/acme/e1/large.txt", Body=b"x" * 11)
    with pytest.raises(ToolError, match="11 bytes, over the 10-byte limit"):
        await read_file.call({"path": "large.txt"}, small)
    with pytest.raises(ToolError, match="read-only"):
        await write_file.call({"path": "new.txt", "content": "x"}, ctx_for(read_only=True))
    assert "sandbox/acme/e1/new.txt" not in keys(s3)
    assert await read_file.call({"path": "large.txt"}, ctx_for(read_only=True)) == "x" * 11
    s3.put_object(Bucket=BUCKET, Key="sandbox/acme/e1/img.png", Body=b"\x89PNG\xff\x00")
    assert "binary file (6 bytes)" in await read_file.call({"path": "img.png"}, ctx_for())


async def test_tenants_and_executions_are_isolated(s3: Any) -> None:
    a1, a2, b1 = ctx_for("acme", "e1"), ctx_for("acme", "e2"), ctx_for("globex", "e1")
    await write_file.call({"path": "plan.txt", "content": "acme e1"}, a1)
    await write_file.call({"path": "plan.txt", "content": "globex e1"}, b1)
    assert await read_file.call({"path": "plan.txt"}, a1) == "acme e1"
    assert await read_file.call({"path": "plan.txt"}, b1) == "globex e1"
    with pytest.raises(ToolError, match="does not exist"):
        await read_file.call({"path": "plan.txt"}, a2)
    assert (await list_files.call({}, a2))["entries"] == [{"name": "secret.txt", "size": 15}]
    assert (await list_files.call({}, b1))["entries"] == [
        {"name": "plan.txt", "size": 9},
        {"name": "secret.txt", "size": 13},
    ]


async def test_listing_is_bounded_across_pages(s3: Any) -> None:
    for i in range(5):
        s3.put_object(Bucket=BUCKET, Key=f"sandbox/acme/e1/f{i}.txt", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="sandbox/acme/e1/sub/g.txt", Body=b"x")
    listing = await list_files.call({}, ctx_for(max_entries=2))
    assert listing["entries"] == [{"name": "f0.txt", "size": 1}, {"name": "f1.txt", "size": 1}]
    assert listing["truncated"] is True
    full = await list_files.call({}, ctx_for())
    assert [e["name"] for e in full["entries"]][-1] == "sub/"
    assert (len(full["entries"]), full["truncated"]) == (6, False)


async def test_prefix_setting(s3: Any) -> None:
    await write_file.call({"path": "x.txt", "content": "x"}, ctx_for(prefix="/team/files/"))
    assert "team/files/acme/e1/x.txt" in keys(s3)
    with pytest.raises(ConfigurationError, match="prefix"):
        await write_file.call({"path": "x.txt", "content": "x"}, ctx_for(prefix="a/../.."))


async def test_missing_bucket_is_a_clear_error(s3: Any) -> None:
    ctx = ToolContext("acme", "e1", "s1", None, {"files": {"backend": "s3", "bucket": "nope"}})
    with pytest.raises(ToolError, match="NoSuchBucket"):
        await write_file.call({"path": "x.txt", "content": "x"}, ctx)


async def test_s3_file_tools_through_an_agent(s3: Any) -> None:
    from agentweaver import AgentWorkflow, LocalRunner, TestModel, agent
    from agentweaver.models import ToolCall

    script: list[Any] = [
        [ToolCall("write_file", {"path": "out/report.md", "content": "# Report"}, "c1")],
        [ToolCall("read_file", {"path": "../../globex/e1/secret.txt"}, "c2")],
        "done",
    ]
    worker = agent(role="Writer", model=TestModel(script=script), tools=TOOLS)(lambda task: None)
    settings = {"files": {"backend": "s3", "bucket": BUCKET}}
    result = await LocalRunner(owner="acme", tool_settings=settings).run(
        AgentWorkflow([worker], name="w"), "report"
    )
    assert result.status == "succeeded", result.errors
    write, escape = result.steps[0].tool_calls
    assert (write["name"], write["is_error"]) == ("write_file", False)
    assert write["result"] == "wrote 8 bytes to out/report.md"
    assert escape["is_error"] is True
    assert "globex secret" not in escape["result"]
    assert keys(s3)[f"sandbox/acme/{result.execution_id}/out/report.md"] == b"# Report"

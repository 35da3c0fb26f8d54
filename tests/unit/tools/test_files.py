"""File tools on the local backend: traversal probes that must not escape, controls that work.

Layout: the sandbox root is ``<tmp>/w/root/sandbox``, beside a sibling ``sandbox-evil`` whose
name starts like the root's and an ``outside`` directory. Every probe must fail *and* leave
the tree outside the sandbox exactly as it was (the tests run as root in CI containers, so
no write probe ever aims at a real system file; reads of ``/etc`` are checked by content).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from agentweaver.exceptions import ConfigurationError, ToolError
from agentweaver.tools import ToolContext
from agentweaver.tools.builtin import files
from agentweaver.tools.builtin.files import TOOLS, list_files, read_file, write_file
from agentweaver.tools.sandbox_paths import is_within, split_path


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    base = tmp_path / "w"
    outside = base / "outside"
    sibling = base / "root" / "sandbox-evil"
    for folder in (outside, sibling):
        folder.mkdir(parents=True)
    (outside / "secret.txt").write_text("outside secret")
    (sibling / "secret.txt").write_text("sibling secret")
    return {"tmp": tmp_path, "root": base / "root" / "sandbox", "outside": outside,
            "sibling": sibling}  # fmt: skip


def ctx_for(root: Path | None, **settings: Any) -> ToolContext:
    return ToolContext("acme", "e1", "s1", root, {"files": settings})


def snapshot(tmp: Path, root: Path) -> dict[str, bytes | str]:
    """Every file, link and directory under ``tmp`` except inside the sandbox root."""
    seen: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(tmp):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            if full == root or root in full.parents:
                continue
            if full.is_symlink():
                seen[str(full)] = f"-> {os.readlink(full)}"
            elif full.is_file():
                seen[str(full)] = full.read_bytes()
            else:
                seen[str(full)] = "dir"
    return seen


TRAVERSAL = [
    "../x",
    "../../x",
    "../../etc/passwd",
    "a/../../x",
    "a/../b",  # stays inside, but '..' is refused outright
    "..",
    "..\\x",
    "a\\..\\..\\x",
    "%2e%2e/x",
    "%2E%2E%2Fx",
    "%252e%252e/x",
    "%25252e%25252e/x",
    "..%2fx",
    "..%5cx",
    "%c0%ae%c0%ae/x",
    "x\x00y",
    "x\ny",
    "C:\\x",
    "c:x",
    "C:/x",
    "\\\\server\\share\\x",
    "~/x",
    "~root/x",
    "．．/x",  # fullwidth dots: NFKC makes them '..'
    "‥/x",  # two-dot leader
    "a／..／..／x",  # fullwidth solidus
    "../sandbox-evil/x",  # the sibling whose name starts like the root's
    "x" * 5000,
    "a/" * 600 + "x",
    "d/" * 40 + "x",
    "n" * 300,
    " ",
    "",
]


@pytest.mark.parametrize("path", TRAVERSAL)
async def test_write_probes_fail_and_leave_nothing_outside(
    world: dict[str, Path], path: str
) -> None:
    before = snapshot(world["tmp"], world["root"])
    with pytest.raises(ToolError):
        await write_file.call({"path": path, "content": "pwned"}, ctx_for(world["root"]))
    assert snapshot(world["tmp"], world["root"]) == before


@pytest.mark.parametrize("path", [*TRAVERSAL, "/etc/passwd", "/etc/hostname"])
async def test_read_probes_fail(world: dict[str, Path], path: str) -> None:
    (world["tmp"] / "w" / "x").write_text("escaped")  # what '../../x' would reach
    with pytest.raises(ToolError):
        await read_file.call({"path": path}, ctx_for(world["root"]))


@pytest.mark.parametrize(
    "path", ["../", "..", "/", "/etc", "%2e%2e", "~", "C:\\", "../sandbox-evil"]
)
async def test_list_probes_fail(world: dict[str, Path], path: str) -> None:
    with pytest.raises(ToolError):
        await list_files.call({"path": path}, ctx_for(world["root"]))


async def test_absolute_path_into_a_writable_place_is_refused(world: dict[str, Path]) -> None:
    target = world["outside"] / "abs.txt"
    with pytest.raises(ToolError, match="absolute"):
        await write_file.call({"path": str(target), "content": "x"}, ctx_for(world["root"]))
    assert not target.exists()


def _links(world: dict[str, Path]) -> Path:
    root = world["root"]
    root.mkdir(parents=True)
    (root / "etc").symlink_to("/etc")
    (root / "evil").symlink_to(world["sibling"])  # directory link to the sibling-prefix dir
    (root / "out").symlink_to(world["outside"])
    (root / "pw").symlink_to(world["outside"] / "secret.txt")  # final-component link
    (root / "dangling").symlink_to(world["outside"] / "new.txt")
    (root / "rel").symlink_to("../sandbox-evil")  # relative link to the sibling
    return root


@pytest.mark.parametrize(
    "path", ["evil/x.txt", "evil/secret.txt", "out/x.txt", "out/secret.txt", "pw", "dangling",
             "rel/secret.txt", "rel/new/x.txt", "out/deep/er/x.txt"],
)  # fmt: skip
async def test_symlinks_leading_out_are_refused(world: dict[str, Path], path: str) -> None:
    _links(world)
    before = snapshot(world["tmp"], world["root"])
    with pytest.raises(ToolError, match="outside the sandbox"):
        await write_file.call({"path": path, "content": "pwned"}, ctx_for(world["root"]))
    with pytest.raises(ToolError, match="outside the sandbox"):
        await read_file.call({"path": path}, ctx_for(world["root"]))
    assert snapshot(world["tmp"], world["root"]) == before
    assert (world["outside"] / "secret.txt").read_text() == "outside secret"


@pytest.mark.parametrize("path", ["etc/passwd", "etc/hostname", "etc"])
async def test_symlink_to_etc_is_refused(world: dict[str, Path], path: str) -> None:
    _links(world)
    with pytest.raises(ToolError, match="outside the sandbox"):
        await read_file.call({"path": path}, ctx_for(world["root"]))
    with pytest.raises(ToolError, match="outside the sandbox"):
        await list_files.call({"path": path}, ctx_for(world["root"]))


async def test_listing_shows_links_without_following_them(world: dict[str, Path]) -> None:
    _links(world)
    listing = await list_files.call({}, ctx_for(world["root"]))
    names = [e["name"] for e in listing["entries"]]
    assert names == ["dangling@", "etc@", "evil@", "out@", "pw@", "rel@"]


async def test_link_swapped_in_after_the_check_is_not_followed(
    world: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: the path is checked, then a directory becomes a link before the open."""
    root = world["root"]
    (root / "d").mkdir(parents=True)
    (root / "d" / "f.txt").write_text("inside")
    (root / "f.txt").write_text("inside")
    real_relative = files.LocalSandbox._relative

    def swap(self: files.LocalSandbox, path: str, **kw: Any) -> Any:
        checked = real_relative(self, path, **kw)
        victim = root / path.split("/")[0]
        if victim.is_dir():
            os.rename(victim, root / "moved")
        else:
            victim.unlink()
        victim.symlink_to(world["outside"] / ("secret.txt" if path == "f.txt" else ""))
        return checked

    monkeypatch.setattr(files.LocalSandbox, "_relative", swap)
    before = snapshot(world["tmp"], root)
    with pytest.raises(ToolError, match="symbolic link"):
        await read_file.call({"path": "f.txt"}, ctx_for(root))
    (root / "f.txt").unlink()
    (root / "f.txt").write_text("inside")
    with pytest.raises(ToolError, match="symbolic link"):
        await write_file.call({"path": "f.txt", "content": "pwned"}, ctx_for(root))
    with pytest.raises(ToolError, match=r"symbolic link|not a directory"):
        await write_file.call({"path": "d/f.txt", "content": "pwned"}, ctx_for(root))
    assert snapshot(world["tmp"], root) == before


async def test_hard_links_and_fifos_are_refused(world: dict[str, Path]) -> None:
    root = world["root"]
    root.mkdir(parents=True)
    os.link(world["outside"] / "secret.txt", root / "hard.txt")
    os.mkfifo(root / "pipe")
    with pytest.raises(ToolError, match="hard links"):
        await read_file.call({"path": "hard.txt"}, ctx_for(root))
    with pytest.raises(ToolError, match="hard links"):
        await write_file.call({"path": "hard.txt", "content": "pwned"}, ctx_for(root))
    assert (world["outside"] / "secret.txt").read_text() == "outside secret"
    with pytest.raises(ToolError, match="not a regular file"):  # and does not hang
        await read_file.call({"path": "pipe"}, ctx_for(root))


def test_is_within_compares_segments_not_string_prefixes() -> None:
    assert is_within("/tmp/sandbox", "/tmp/sandbox")
    assert is_within("/tmp/sandbox", "/tmp/sandbox/a/b")
    assert is_within("/tmp/sandbox/", "/tmp/sandbox/a")
    assert not is_within("/tmp/sandbox", "/tmp/sandbox-evil")
    assert not is_within("/tmp/sandbox", "/tmp/sandbox-evil/x")
    assert not is_within("/tmp/sandbox", "/tmp")
    assert not is_within("/tmp/sandbox", "relative/path")


# --- positive controls -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "stored"),
    [
        ("notes/day/one.txt", "notes/day/one.txt"),
        ("./a/./b.txt", "a/b.txt"),
        ("a..b.txt", "a..b.txt"),
        ("...", "..."),
        ("..hidden", "..hidden"),
        ("a/b../c", "a/b../c"),
        ("100%.txt", "100%.txt"),
        ("a%20b.txt", "a%20b.txt"),
        ("a\\b.txt", "a/b.txt"),  # a backslash is a separator
        ("dir//x.txt", "dir/x.txt"),
        ("日本語/naïve café.txt", "日本語/naïve café.txt"),
        ("~tilde/x.txt", None),
        ("x~/y.txt", "x~/y.txt"),
        ("d/" * 31 + "x", "d/" * 31 + "x"),
        ("n" * 255, "n" * 255),
    ],
)
async def test_positive_paths_write_then_read(
    world: dict[str, Path], path: str, stored: str | None
) -> None:
    ctx = ctx_for(world["root"])
    if stored is None:  # '~' is refused only at the start
        with pytest.raises(ToolError, match="home directory"):
            await write_file.call({"path": path, "content": "x"}, ctx)
        return
    message = await write_file.call({"path": path, "content": f"hello {path}"}, ctx)
    assert message.startswith("wrote ")
    assert (world["root"] / stored).read_text() == f"hello {path}"
    assert await read_file.call({"path": path}, ctx) == f"hello {path}"


async def test_list_overwrite_and_sizes(world: dict[str, Path]) -> None:
    ctx = ctx_for(world["root"])
    await write_file.call({"path": "a/b.txt", "content": "long content here"}, ctx)
    await write_file.call({"path": "a/b.txt", "content": "short"}, ctx)  # truncates
    await write_file.call({"path": "top.md", "content": "é"}, ctx)
    assert await read_file.call({"path": "a/b.txt"}, ctx) == "short"
    assert await list_files.call({}, ctx) == {
        "path": ".",
        "entries": [{"name": "a/"}, {"name": "top.md", "size": 2}],
        "truncated": False,
    }
    inner = await list_files.call({"path": "./a/"}, ctx)
    assert inner["entries"] == [{"name": "b.txt", "size": 5}]
    with pytest.raises(ToolError, match="is a directory"):
        await read_file.call({"path": "a"}, ctx)
    with pytest.raises(ToolError, match="is a directory"):
        await write_file.call({"path": "a", "content": "x"}, ctx)
    with pytest.raises(ToolError, match=r"parent .* is a file"):
        await write_file.call({"path": "top.md/x", "content": "x"}, ctx)
    with pytest.raises(ToolError, match="does not exist"):
        await read_file.call({"path": "missing.txt"}, ctx)
    with pytest.raises(ToolError, match="does not exist"):
        await list_files.call({"path": "nowhere"}, ctx)


async def test_links_staying_inside_work(world: dict[str, Path]) -> None:
    root = world["root"]
    (root / "real").mkdir(parents=True)
    (root / "real" / "f.txt").write_text("via link")
    (root / "alias").symlink_to("real")
    ctx = ctx_for(root)
    assert await read_file.call({"path": "alias/f.txt"}, ctx) == "via link"
    await write_file.call({"path": "alias/g.txt", "content": "g"}, ctx)
    assert (root / "real" / "g.txt").read_text() == "g"


async def test_sandbox_is_created_private_on_first_use(world: dict[str, Path]) -> None:
    assert not world["root"].exists()
    assert (await list_files.call({}, ctx_for(world["root"])))["entries"] == []
    assert (world["root"].stat().st_mode & 0o777) == 0o700


async def test_binary_files_are_described_not_returned(world: dict[str, Path]) -> None:
    root = world["root"]
    root.mkdir(parents=True)
    (root / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    (root / "nul.bin").write_bytes(b"ab\x00cd")
    ctx = ctx_for(root)
    assert await read_file.call({"path": "img.png"}, ctx) == (
        "img.png is a binary file (10 bytes); read_file only returns text"
    )
    assert "binary file (5 bytes)" in await read_file.call({"path": "nul.bin"}, ctx)


async def test_size_limit_for_writing_and_reading(world: dict[str, Path]) -> None:
    ctx = ctx_for(world["root"], max_bytes=10)
    assert await write_file.call({"path": "ok.txt", "content": "0123456789"}, ctx)
    with pytest.raises(ToolError, match="over the 10-byte limit"):
        await write_file.call({"path": "big.txt", "content": "01234567890"}, ctx)
    with pytest.raises(ToolError, match="over the 10-byte limit"):  # bytes, not characters
        await write_file.call({"path": "big.txt", "content": "ééééé1"}, ctx)
    assert not (world["root"] / "big.txt").exists()
    (world["root"] / "large.txt").write_text("x" * 11)
    with pytest.raises(ToolError, match="11 bytes, over the 10-byte limit"):
        await read_file.call({"path": "large.txt"}, ctx)
    # the model cannot raise its own limit: extra arguments are not settings
    with pytest.raises(ToolError, match="limit"):
        await write_file.call({"path": "big.txt", "content": "x" * 11, "max_bytes": 10**9}, ctx)


async def test_default_limit_is_one_megabyte(world: dict[str, Path]) -> None:
    ctx = ctx_for(world["root"])
    assert await write_file.call({"path": "mb.txt", "content": "x" * 1_000_000}, ctx)
    with pytest.raises(ToolError, match="1000000-byte limit"):
        await write_file.call({"path": "mb.txt", "content": "x" * 1_000_001}, ctx)


async def test_read_only_mode(world: dict[str, Path]) -> None:
    root = world["root"]
    root.mkdir(parents=True)
    (root / "given.txt").write_text("input data")
    ctx = ctx_for(root, read_only=True)
    with pytest.raises(ToolError, match="read-only"):
        await write_file.call({"path": "new.txt", "content": "x"}, ctx)
    with pytest.raises(ToolError, match="read-only"):
        await write_file.call({"path": "given.txt", "content": "x"}, ctx)
    assert not (root / "new.txt").exists()
    assert await read_file.call({"path": "given.txt"}, ctx) == "input data"
    assert (await list_files.call({}, ctx))["entries"] == [{"name": "given.txt", "size": 10}]


async def test_listing_is_bounded(world: dict[str, Path]) -> None:
    ctx = ctx_for(world["root"], max_entries=3)
    for i in range(5):
        await write_file.call({"path": f"f{i}.txt", "content": "x"}, ctx)
    listing = await list_files.call({}, ctx)
    assert len(listing["entries"]) == 3
    assert listing["truncated"] is True
    full = await list_files.call({}, ctx_for(world["root"]))
    assert (len(full["entries"]), full["truncated"]) == (5, False)


async def test_tenants_and_executions_are_isolated(tmp_path: Path) -> None:
    def ctx(tenant: str, execution: str) -> ToolContext:
        return ToolContext(tenant, execution, "s", tmp_path / tenant / execution, {})

    a1, a2, b1 = ctx("acme", "e1"), ctx("acme", "e2"), ctx("globex", "e1")
    await write_file.call({"path": "plan.txt", "content": "acme e1"}, a1)
    await write_file.call({"path": "plan.txt", "content": "globex e1"}, b1)
    assert await read_file.call({"path": "plan.txt"}, a1) == "acme e1"
    assert await read_file.call({"path": "plan.txt"}, b1) == "globex e1"
    with pytest.raises(ToolError, match="does not exist"):
        await read_file.call({"path": "plan.txt"}, a2)
    assert (await list_files.call({}, a2))["entries"] == []
    for probe in ("../e1/plan.txt", "../../globex/e1/plan.txt"):
        with pytest.raises(ToolError):
            await read_file.call({"path": probe}, a2)


async def test_no_sandbox_means_a_clear_error() -> None:
    for item, args in ((read_file, {"path": "a"}), (write_file, {"path": "a", "content": ""}),
                       (list_files, {})):  # fmt: skip
        with pytest.raises(ToolError, match="sandbox_root"):
            await item.call(args, ToolContext())


@pytest.mark.parametrize(
    "settings",
    [{"backend": "ftp"}, {"max_bytes": 0}, {"max_bytes": "1MB"}, {"read_only": "yes"},
     {"maxbytes": 5}, {"backend": "s3"}],
)  # fmt: skip
async def test_bad_settings_fail_loudly(world: dict[str, Path], settings: Any) -> None:
    with pytest.raises(ConfigurationError):
        await read_file.call({"path": "a"}, ctx_for(world["root"], **settings))


def test_tools_module_shape() -> None:
    assert [t.name for t in TOOLS] == ["read_file", "write_file", "list_files"]
    for item in TOOLS:
        assert "ctx" not in item.parameters["properties"]
        assert item.description
    assert split_path("./a/./b.txt") == ("a", "b.txt")
    assert split_path(".", allow_root=True) == ()


async def test_file_tools_through_an_agent(tmp_path: Path) -> None:
    from agentweaver import AgentWorkflow, LocalRunner, TestModel, agent
    from agentweaver.models import ToolCall

    script: list[Any] = [
        [ToolCall("write_file", {"path": "notes/plan.md", "content": "step 1"}, "c1")],
        [ToolCall("read_file", {"path": "../../../etc/passwd"}, "c2"),
         ToolCall("list_files", {"path": "notes"}, "c3")],
        "done",
    ]  # fmt: skip
    worker = agent(role="Writer", model=TestModel(script=script), tools=TOOLS)(lambda task: None)
    runner = LocalRunner(
        owner="acme", tool_settings={"files": {"max_bytes": 1000}}, sandbox_root=tmp_path
    )
    result = await runner.run(AgentWorkflow([worker], name="w"), "write a plan")
    assert result.status == "succeeded", result.errors
    write, escape, listing = result.steps[0].tool_calls
    assert write["name"] == "write_file"
    assert write["arguments"] == {"path": "notes/plan.md", "content": "step 1"}
    assert (write["result"], write["is_error"]) == ("wrote 6 bytes to notes/plan.md", False)
    assert escape["is_error"] is True
    assert "'..' segments are not allowed" in escape["result"]
    assert "root:" not in escape["result"]
    assert listing["is_error"] is False
    assert '"plan.md"' in listing["result"]
    saved = tmp_path / "acme" / result.execution_id / "notes" / "plan.md"
    assert saved.read_text() == "step 1"

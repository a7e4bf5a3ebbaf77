"""Every ```python block of README.md and docs/*.md runs, offline, against real stand-ins.

One test per block, parametrised by page and block number. The blocks of a page share one
namespace and run in order (a block may use the names an earlier block of its page defined):
the test of block N first runs the blocks before it that have not run yet. The world they run
in is :mod:`tests.usage.docs_scene`: a working directory with the photos the docs name, the
real local engine, loopback Azure, Rekognition, S3 and Dask stand-ins, no other network. Docs
placeholders such as ``https://<name>.cognitiveservices.azure.com`` are replaced by the
stand-in's address (listed in the test's output).

A block that cannot run offline is marked in the markdown, on the line before its fence::

    <!-- docs-test: skip (needs a real Azure key) -->

and reported as skipped with that reason; an unmarked block that raises fails the test. A block
whose optional package (supervision, pandas, distributed ...) is not installed is skipped, naming
it; the development install (``.[dev]``) has them all.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.local.conftest import models
from tests.usage.docs_scene import PAGE_ENVIRONMENT, PLACEHOLDERS, ROOT, Scene, loopback_only

__all__ = ["models"]  # the real local engine's weights fixture

PAGES = ["README.md", *sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "docs").glob("*.md"))]
FENCE = re.compile(
    r"^(?:<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]*)\)\s*-->\s*\n)?```python[ \t]*\n(?P<code>.*?)^```", re.S | re.M
)


@dataclass(frozen=True)
class Block:
    """One fenced Python block: its page, number (1-based), first code line and text."""

    page: str
    number: int
    line: int
    code: str
    skip: str | None


def page_blocks(page: str, text: str | None = None) -> list[Block]:
    """The ```python blocks of ``page`` (its text read from the repository unless given), in order."""
    text = (ROOT / page).read_text(encoding="utf-8") if text is None else text
    return [
        Block(page, number, text.count("\n", 0, match.start("code")) + 1, match.group("code"), match.group("reason"))
        for number, match in enumerate(FENCE.finditer(text), start=1)
    ]


BLOCKS = [block for page in PAGES for block in page_blocks(page)]


@dataclass
class PageRun:
    """A page's shared namespace and how far its blocks have run."""

    namespace: dict[str, Any] = field(default_factory=lambda: {"__name__": "__docs__"})
    done: int = 0
    failed: str | None = None
    missing: str | None = None


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory, models: object) -> Iterator[Scene]:
    world = Scene(tmp_path_factory.mktemp("docs"))
    try:
        yield world
    finally:
        for run in RUNS.values():  # what the blocks left open (a Dask client, FaceClients) before the stand-ins
            for value in run.namespace.values():
                if type(value).__module__.split(".")[0] in ("distributed", "facekit") and callable(
                    getattr(value, "close", None)
                ):
                    with contextlib.suppress(Exception):
                        value.close()
        world.close()


RUNS: dict[str, PageRun] = {}


def _missing(exc: BaseException) -> str | None:
    """The optional package a block lacks (``supervision``, ``pandas`` ...), or None for a real failure."""
    from facekit import MissingDependencyError

    if isinstance(exc, MissingDependencyError):
        return str(exc)
    if isinstance(exc, ModuleNotFoundError) and exc.name and not exc.name.startswith(("facekit", "tests")):
        return exc.name
    return None


def _run(block: Block, run: PageRun, scene: Scene) -> list[str]:
    """Run one block in its page's namespace; returns the placeholders it replaced."""
    code, replaced = block.code, []
    for text, stand_in in PLACEHOLDERS.items():
        if text in code:
            code = code.replace(text, stand_in(scene))
            replaced.append(text)
    compiled = compile("\n" * (block.line - 1) + code, str(ROOT / block.page), "exec")  # tracebacks name the md line
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a docs block may warn (supervision without OpenCV): only errors fail
        exec(compiled, run.namespace)
    return replaced


def test_the_docs_have_python_blocks_and_skips_are_rare() -> None:
    assert len(BLOCKS) >= 20
    skipped = [f"{b.page} block {b.number}: {b.skip}" for b in BLOCKS if b.skip]
    assert len(skipped) <= 3, skipped


def test_blocks_and_skip_markers_are_read_and_a_raising_block_fails(tmp_path: Path) -> None:
    text = (
        "# t\n\n```python\nx = 1\n```\n\n```bash\nls\n```\n\n<!-- docs-test: skip (needs a real key) -->\n"
        "```python\nFaceClient('azure-rest', key=REAL)\n```\n\n```python\ny = x + 1\nraise ValueError(y)\n```\n"
    )
    first, second, third = page_blocks("t.md", text)
    assert (first.code, first.line, first.skip) == ("x = 1\n", 4, None)
    assert (second.skip, second.line) == ("needs a real key", 13)
    run = PageRun()
    scene = Scene.__new__(Scene)  # no stand-in is used by these blocks
    _run(first, run, scene)
    with pytest.raises(ValueError, match="2"):  # names from the earlier block, then the block's own error
        _run(third, run, scene)


@pytest.mark.models
@pytest.mark.parametrize("block", BLOCKS, ids=[f"{b.page}#{b.number}" for b in BLOCKS])
def test_docs_block_runs(block: Block, scene: Scene, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in [name for name in os.environ if name.startswith(("FACEKIT_", "AWS_", "AZURE_", "FACE_"))]:
        if name != "FACEKIT_REQUIRE_MODELS":
            monkeypatch.delenv(name)
    for name, value in scene.environment().items():  # first: the stand-ins below start with these credentials
        monkeypatch.setenv(name, value)
    run = RUNS.setdefault(block.page, PageRun())
    try:
        page_environment = PAGE_ENVIRONMENT.get(block.page, lambda _: {})(scene)
    except ModuleNotFoundError as exc:  # a stand-in's package (moto, distributed) is not installed
        pytest.skip(f"{block.page}: the stand-in needs {exc.name}, not installed")
    for name, value in page_environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(scene.directory)
    with loopback_only():
        for earlier in page_blocks(block.page)[run.done : block.number - 1]:  # blocks this one may build on
            if run.failed is None and run.missing is None and earlier.skip is None:
                try:
                    _run(earlier, run, scene)
                except Exception as exc:
                    run.missing = _missing(exc)
                    if run.missing is None:
                        run.failed = f"block {earlier.number} (line {earlier.line}) raised {exc!r}"
            run.done = earlier.number
        if run.failed is not None:
            pytest.fail(f"{block.page}: an earlier block failed: {run.failed}")
        if run.missing is not None:
            pytest.skip(f"{block.page}: an earlier block needs {run.missing}, not installed")
        if block.skip is not None:
            run.done = block.number
            pytest.skip(f"marked in {block.page}: docs-test: skip ({block.skip})")
        try:
            replaced = _run(block, run, scene)
        except Exception as exc:
            run.missing = _missing(exc)
            if run.missing is not None:
                pytest.skip(f"{block.page} block {block.number} needs {run.missing}, not installed")
            run.failed = f"block {block.number} (line {block.line}) raised {exc!r}"
            raise AssertionError(f"{block.page} block {block.number} (line {block.line}) fails: {exc!r}") from exc
        finally:
            run.done = block.number
    if replaced:
        with capsys.disabled():
            print(f"\n{block.page} block {block.number}: stand-ins for {', '.join(replaced)}", end="")

"""docs/compare.md runs as written, prints what it shows, and its saved example results are what the engine gives."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

import facekit

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "compare.md"


def test_the_page_runs_and_prints_its_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    text = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    shown = re.search(r"prints\n\n```\n(.*?)```", text, re.S)
    assert blocks and shown
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(blocks[0], "docs/compare.md block 1", "exec"), namespace)
    assert printed.getvalue() == shown.group(1)
    for number, code in enumerate(blocks[1:], start=2):
        exec(compile(code, f"docs/compare.md block {number}", "exec"), namespace)
    assert (tmp_path / "compare.png").stat().st_size > 0 and (tmp_path / "compare-saved.png").stat().st_size > 0


@pytest.mark.parametrize(("name", "max_side"), [("local", 640), ("local-160", 160)])
def test_saved_example_results_match_the_engine(name: str, max_side: int) -> None:
    (item,) = facekit.read_results(ROOT / "examples" / "results" / f"grace_hopper.{name}.json")
    assert item.input == "examples/images/grace_hopper.jpg"
    with facekit.FaceClient("local", max_side=max_side) as client:
        fresh = client.detect(ROOT / item.input, attributes=["age", "gender", "emotion"], landmarks=True)
    assert item.unwrap().faces == fresh.faces

"""The Python blocks of docs/interop.md and docs/getting-started.md run as written (local engine, offline)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.filterwarnings("ignore:OpenCV")
@pytest.mark.parametrize("page", ["docs/interop.md", "docs/getting-started.md"])
def test_every_python_block_runs(page: str, models: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("examples", "tests"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(tmp_path)
    blocks = BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))
    assert blocks
    namespace: dict[str, object] = {}
    for number, code in enumerate(blocks, start=1):
        try:
            exec(compile(code, f"{page} block {number}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the failure message names the block
            raise AssertionError(f"{page} block {number} fails: {exc!r}") from exc

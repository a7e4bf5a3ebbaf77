"""No import cycles inside facekit/ (static graph: module-level, lazy and TYPE_CHECKING imports)."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import cycles, import_graph

PACKAGE = Path(__file__).resolve().parent.parent / "facekit"


def test_facekit_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 40  # the walk found the package
    assert cycles(graph) == []


def test_the_pipeline_sits_below_the_clients_and_above_the_backends() -> None:
    graph = import_graph(PACKAGE)
    assert "facekit._pipeline" in graph["facekit._client"]
    assert "facekit._pipeline" in graph["facekit._batch"]
    assert "facekit._client" not in graph["facekit._batch"]
    assert "facekit.backends._base" in graph["facekit._pipeline"]
    assert not {"facekit._client", "facekit._batch"} & graph["facekit._pipeline"]
    assert not {"facekit._draw", "facekit._export", "facekit._frame"} & graph["facekit._face"]


def test_the_checker_finds_lazy_relative_and_type_checking_cycles(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from pkg.a import A\n")
    (package / "a.py").write_text("A = 1\ndef f():\n    from pkg import b  # lazy\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "c.py").write_text("from . import d\n")
    (package / "sub" / "d.py").write_text("from .c import x\n")
    (package / "e.py").write_text("import pkg.a\n")
    graph = import_graph(package)
    assert graph["pkg.e"] == {"pkg.a"}
    assert cycles(graph) == [["pkg", "pkg.a", "pkg.b"], ["pkg.sub.c", "pkg.sub.d"]]

"""examples/quickstart.ipynb runs top to bottom in a real kernel with the local engine."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.models
def test_quickstart_notebook_executes_and_renders_the_result() -> None:
    pytest.importorskip("onnxruntime")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    [shown] = [cell.outputs[0]["data"] for cell in notebook.cells if cell.cell_type == "code" and cell.source == "result"]
    assert "image/png" not in shown, "the drawing is embedded once, in the HTML, not again as image/png"
    assert shown["text/html"].count("data:image/png;base64,") == 1
    assert "face(s)" in shown["text/html"] and "<table>" in shown["text/html"]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    count = int(printed.split(" face(s)")[0].split()[-1])
    assert count >= 1  # Grace Hopper's portrait has a face
    last = notebook.cells[-1].outputs[0]["data"]["text/plain"]
    assert "InvalidImageError" in last

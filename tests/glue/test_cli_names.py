"""Unknown provider names get a suggestion and the aliases; ``~`` in CLI inputs is expanded."""

from __future__ import annotations

from pathlib import Path

import pytest

from facekit import ConfigurationError, FaceClient
from facekit.cli._inputs import expand_inputs


def test_unknown_provider_suggests_the_closest_name_and_lists_aliases() -> None:
    with pytest.raises(ConfigurationError) as info:
        FaceClient("rekognitoin")
    message = str(info.value)
    assert "did you mean 'aws'?" in message
    assert "rekognition -> aws" in message and "onnx -> local" in message
    with pytest.raises(ConfigurationError, match="did you mean 'azure-rest'"):
        FaceClient("azure-rset")
    with pytest.raises(ConfigurationError) as far:
        FaceClient("zzzz")
    assert "did you mean" not in str(far.value)


def test_tilde_in_inputs_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "a.jpg").write_bytes(b"x")
    [entry] = expand_inputs(["~/shots"])
    assert entry.error is None and entry.name == str(tmp_path / "shots" / "a.jpg")
    [single] = expand_inputs(["~/shots/a.jpg"])
    assert single.error is None and single.name == str(tmp_path / "shots" / "a.jpg")


def test_progress_bar_is_tqdm_with_the_failure_count() -> None:
    import io

    from facekit._batch import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(4, stream=stream)
    bar.update(1)
    bar.update(3, 1)
    bar.close(4, 1)
    text = stream.getvalue()
    assert "4/4" in text and "1 failed" in text and "image/s" in text  # tqdm's own rate column

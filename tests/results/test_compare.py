"""``facekit.compare``: optimal matching, per-face agreement, provider-only faces, the table, the drawing and the CLI."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import facekit
from facekit import BoundingBox, DetectionResult, Face, InvalidRequestError, Point
from facekit._assignment import best_assignment
from facekit._attributes import FaceAttributes, Gender
from facekit._compare import compare
from facekit._draw import PALETTE
from facekit.cli import EXIT_OK, EXIT_USAGE, main
from tests.results.conftest import PHOTO


def brute_force(scores: list[list[float]], minimum: float) -> float:
    rows, columns = len(scores), len(scores[0])
    best = 0.0
    for chosen in itertools.permutations(range(max(rows, columns)), rows):
        total = sum(scores[r][c] for r, c in enumerate(chosen) if c < columns and scores[r][c] >= minimum)
        best = max(best, total)
    return best


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5).flatmap(lambda rows: st.integers(1, 5).flatmap(lambda columns: st.lists(
    st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1.0)), min_size=columns, max_size=columns),
    min_size=rows, max_size=rows))))
def test_the_assignment_is_optimal(scores: list[list[float]]) -> None:
    pairs = best_assignment(scores, minimum=0.3)
    assert len({r for r, _ in pairs}) == len(pairs) == len({c for _, c in pairs})  # one-to-one
    assert all(scores[r][c] >= 0.3 for r, c in pairs)
    assert sum(scores[r][c] for r, c in pairs) == pytest.approx(brute_force(scores, 0.3))


def faces_at(*lefts: float, size: int = 400) -> DetectionResult:
    faces = [Face(index=i, box=BoundingBox(left=x, top=50, width=100, height=100, image_width=size, image_height=size))
             for i, x in enumerate(lefts)]
    return DetectionResult(provider="constructed", image=facekit.ImageInfo(width=size, height=size), faces=faces)


def test_matching_is_optimal_where_greedy_is_wrong() -> None:
    first, second = faces_at(100, 140), faces_at(110, 60)
    iou = [[a.box.iou(b.box) for b in second.faces] for a in first.faces]
    # greedy takes the best pair first (first 0 ~ second 0, IoU 0.82) and leaves first 1 with
    # second 1 at IoU 0.11, below the threshold: one match
    assert iou[0][0] == max(max(row) for row in iou) and iou[1][1] < 0.3
    comparison = compare({"a": first, "b": second})
    assert [group.faces for group in comparison.matched] == [{"a": 0, "b": 1}, {"a": 1, "b": 0}]
    assert comparison.only() == []
    assert [group.pairs[0].box_iou for group in comparison.matched] == [iou[0][1], iou[1][0]]


def perturbed(result: DetectionResult, dx: float, dy: float) -> DetectionResult:
    """A copy with the first face moved by (dx, dy) pixels, its gender flipped, the others dropped."""
    face = result.faces[0]
    landmarks = {name: Point(x=p.x + dx, y=p.y + dy) for name, p in (face.landmarks or {}).items()}
    gender = face.attributes.gender
    assert gender is not None
    flipped = Gender(value="female" if gender.value == "male" else "male", confidence=gender.confidence)
    moved = face.model_copy(update={
        "box": face.box.model_copy(update={"left": face.box.left + dx, "top": face.box.top + dy}),
        "landmarks": landmarks,
        "attributes": face.attributes.model_copy(update={"gender": flipped, "age": (face.attributes.age or 0) + 7}),
    })
    return result.model_copy(update={"provider": "moved", "faces": [moved]})


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DetectionResult]:
    """Grace Hopper twice, side by side (two faces), and the local engine's result."""
    path = tmp_path_factory.mktemp("pair") / "pair.jpg"
    with Image.open(PHOTO) as photo:
        canvas = Image.new("RGB", (1100, 600), (200, 200, 200))
        canvas.paste(photo.convert("RGB"), (0, 0))
        canvas.paste(photo.convert("RGB").resize((400, 469)), (650, 60))
    canvas.save(path, quality=92)
    with facekit.FaceClient("local") as client:
        result = client.detect(path, attributes=["age", "gender", "emotion"], landmarks=True)
    assert len(result.faces) == 2
    return path, result


def test_agreement_of_a_perturbed_copy(pair: tuple[Path, DetectionResult]) -> None:
    _, local = pair
    moved = perturbed(local, 3.0, 4.0)
    comparison = compare([local, moved])
    assert comparison.providers == ["local", "moved"]
    (group,) = comparison.matched
    (agreement,) = group.pairs
    face = local.faces[0]
    assert agreement.landmark_distance == pytest.approx(5.0)  # every landmark moved by (3, 4)
    assert agreement.landmarks_compared == tuple(face.landmarks or {})
    assert agreement.box_iou == pytest.approx(face.box.iou(moved.faces[0].box)) and agreement.box_iou < 1
    assert agreement.age_difference == pytest.approx(7.0)
    assert agreement.gender_agrees is False and agreement.emotion_agrees is True
    (alone,) = comparison.only()
    assert alone.only == "local" and alone.faces == {"local": 1} and comparison.only("moved") == []
    rows = comparison.rows()
    assert [(row["face"], row["first"], row["second"]) for row in rows] == [(1, "local", "moved"), (2, "local", None)]
    table = str(comparison)
    assert "local ~ moved" in table and "local only" in table and "!=" in table
    assert "local: 2 face(s), 1 found by it only" in table
    frame = comparison.to_dataframe()
    assert list(frame["face"]) == [1, 2] and str(frame["gender_agrees"].dtype) == "boolean"


def test_a_range_and_an_age_differ_by_the_gap() -> None:
    base = faces_at(100)
    ranged = base.faces[0].model_copy(update={"attributes": FaceAttributes(age_range={"low": 50, "high": 60})})
    exact = base.faces[0].model_copy(update={"attributes": FaceAttributes(age=66.5)})
    inside = base.faces[0].model_copy(update={"attributes": FaceAttributes(age=55)})
    for face, gap in ((exact, 6.5), (inside, 0.0)):
        comparison = compare({"aws": base.model_copy(update={"faces": [ranged]}),
                              "local": base.model_copy(update={"faces": [face]})})
        assert comparison.matched[0].pairs[0].age_difference == pytest.approx(gap)
    assert compare({"a": base, "b": base}).matched[0].pairs[0].age_difference is None  # no age: unknown


def test_refusals() -> None:
    with pytest.raises(InvalidRequestError, match="at least two"):
        compare([faces_at(1)])
    with pytest.raises(InvalidRequestError, match="different images"):
        compare([faces_at(1), faces_at(1, size=500)])
    with pytest.raises(InvalidRequestError, match="iou"):
        compare([faces_at(1), faces_at(1)], iou=0)


def test_the_drawing_has_one_colour_per_provider(pair: tuple[Path, DetectionResult]) -> None:
    path, local = pair
    comparison = compare([local, perturbed(local, 30.0, 0.0)])
    drawn = comparison.draw(path)
    assert drawn.size == (1100, 600)
    moved_box = comparison.results["moved"].faces[0].box
    right_edge = (round(moved_box.right) - 1, round(moved_box.top + moved_box.height / 2))
    assert drawn.getpixel(right_edge) == PALETTE[1]  # the second provider's colour on its box
    left_edge = (round(local.faces[0].box.left), round(local.faces[0].box.top + local.faces[0].box.height / 2))
    assert drawn.getpixel(left_edge) == PALETTE[0]
    loaded = [DetectionResult.model_validate_json(r.to_json()) for r in (local, perturbed(local, 1, 1))]
    with pytest.raises(InvalidRequestError, match="pass the image"):
        compare(loaded).draw()  # results read from JSON have no image attached


def test_cli_compares_saved_results_without_a_call(pair: tuple[Path, DetectionResult], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path, local = pair
    saved = tmp_path / "local.json"
    assert main(["detect", str(path), "-p", "local", "-a", "age,gender,emotion", "-l", "-o", str(saved), "-q"]) == 0
    other = tmp_path / "moved.json"
    other.write_text(perturbed(local, 3.0, 4.0).to_json())
    drawing = tmp_path / "out" / "compare.png"
    code = main(["compare", "--results", str(saved), str(other), "--json", "--draw", str(drawing)])
    assert code == EXIT_OK
    answer = json.loads(capsys.readouterr().out)
    assert answer["providers"] == ["local", "moved"] and "results" not in answer
    assert [group["faces"] for group in answer["groups"]] == [{"local": 0, "moved": 0}, {"local": 1}]
    assert answer["groups"][0]["pairs"][0]["landmark_distance"] == pytest.approx(5.0)
    with Image.open(drawing) as picture:  # the image came from the input recorded in local.json
        assert picture.size == (1100, 600)
    assert main(["compare", "--results", f"640px={saved}", f"shifted={other}"]) == EXIT_OK
    assert "640px ~ shifted" in capsys.readouterr().out


def test_cli_refuses_a_file_of_many_inputs(pair: tuple[Path, DetectionResult], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = pair
    many = tmp_path / "many.json"
    assert main(["detect", str(path), str(PHOTO), "-p", "local", "-o", str(many), "-q"]) == 0
    assert main(["compare", "--results", str(many), str(many)]) == EXIT_USAGE
    assert "one result of one image per file" in capsys.readouterr().err
    assert main(["compare", "--providers", "local"]) == EXIT_USAGE

"""draw(), crop_faces(), Jupyter reprs, data frames and CSV/JSON rows."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from facekit import (
    AgeRange,
    BoundingBox,
    DetectionResult,
    EmotionScores,
    Face,
    FaceAttributes,
    FaceClient,
    Gender,
    InvalidRequestError,
    Point,
)
from facekit._batch import BatchItem
from facekit._draw import PALETTE, face_label
from facekit._export import CSV_COLUMNS, csv_rows, item_record
from tests.conftest import encode

GREY = (128, 128, 128)


def detect_on(image: Image.Image | bytes, faces: list[Face]) -> DetectionResult:
    return FaceClient("fake", handler=lambda payload, request: faces).detect(image, landmarks=True, attributes=["age", "gender"])


def one_face() -> Face:
    return Face(
        box=BoundingBox(left=40, top=50, width=60, height=80),
        attributes=FaceAttributes(age=27.4, gender=Gender(value="female", confidence=0.9)),
        landmarks={"nose_tip": Point(x=70, y=90)},
    )


def test_draw_puts_box_landmarks_and_label_where_the_face_is() -> None:
    result = detect_on(encode(Image.new("RGB", (200, 160), GREY), "PNG"), [one_face()])
    drawn = result.draw(line_width=2)
    assert drawn.size == (200, 160)
    color = PALETTE[0]
    assert drawn.getpixel((40, 90)) == color  # left edge
    assert drawn.getpixel((99, 90)) == color  # right edge
    assert drawn.getpixel((70, 90)) == color  # the landmark
    assert drawn.getpixel((70, 110)) == GREY  # inside the box, away from the landmark
    label_area = drawn.crop((40, 0, 100, 48))
    assert color in [c for _, c in label_area.getcolors(10_000)]  # label above the box
    plain = result.draw(labels=False, landmarks=False, line_width=2)
    assert plain.getpixel((70, 90)) == GREY
    assert plain.crop((40, 0, 100, 48)).getcolors() == [(60 * 48, GREY)]


def test_face_label_uses_gender_and_age_like_the_azure_quickstart() -> None:
    assert face_label(one_face()) == "Female, 27"
    ranged = Face(index=2, box=BoundingBox(left=0, top=0, width=1, height=1),
                  attributes=FaceAttributes(age_range=AgeRange(low=25, high=32)))
    assert face_label(ranged) == "25-32"
    assert face_label(Face(index=3, box=BoundingBox(left=0, top=0, width=1, height=1))) == "#3"


def test_result_loaded_from_json_needs_the_image_and_checks_its_size(tmp_path) -> None:  # type: ignore[no-untyped-def]
    picture = Image.new("RGB", (200, 160), GREY)
    path = tmp_path / "p.png"
    picture.save(path)
    result = detect_on(str(path), [one_face()])
    loaded = DetectionResult.model_validate_json(result.model_dump_json())
    assert loaded == result  # the private image reference is neither serialised nor compared
    assert "data:image" not in loaded._repr_html_()  # nothing to draw on: the table alone
    with pytest.raises(InvalidRequestError, match="no image attached"):
        loaded.draw()
    assert loaded.draw(str(path)).size == (200, 160)
    with pytest.raises(InvalidRequestError, match="200x160"):
        loaded.draw(Image.new("RGB", (100, 80)))


def test_crop_faces_clips_and_adds_margin() -> None:
    picture = Image.new("RGB", (200, 160), GREY)
    picture.paste((0, 0, 255), (40, 50, 100, 130))
    edge = Face(box=BoundingBox(left=-20, top=120, width=60, height=80))
    result = detect_on(picture, [one_face(), edge])
    crops = result.crop_faces()
    assert [c.size for c in crops] == [(60, 80), (40, 40)]
    assert crops[0].getcolors() == [(60 * 80, (0, 0, 255))]
    wide = result.crop_faces(margin=0.25)
    assert wide[0].size == (90, 120)  # 15 px and 20 px more on every side
    with pytest.raises(InvalidRequestError):
        result.crop_faces(margin=-0.1)


def test_jupyter_repr_embeds_the_drawing_at_most_800_px() -> None:
    result = detect_on(Image.new("RGB", (1600, 1200), GREY), [one_face()])
    html = result._repr_html_()
    assert "Female, 27" in html and "<table>" in html
    png = base64.b64decode(html.split("data:image/png;base64,")[1].split('"')[0])
    assert png.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(png)).size == (800, 600)


def test_to_dataframe_flattens_attributes_and_landmarks() -> None:
    emotion = EmotionScores(happiness=0.8, neutral=0.2)
    face = one_face().model_copy(update={"attributes": FaceAttributes(age=30.0, emotion=emotion)})
    frame = detect_on(Image.new("RGB", (200, 160), GREY), [face]).to_dataframe()
    assert list(frame["index"]) == [0]
    assert frame.loc[0, "width"] == 60
    assert frame.loc[0, "emotion.happiness"] == pytest.approx(0.8)
    assert frame.loc[0, "landmarks.nose_tip.x"] == 70
    assert "gender.value" not in frame.columns  # not returned: no column, never a made-up value
    empty = detect_on(Image.new("RGB", (200, 160), GREY), []).to_dataframe()
    assert len(empty) == 0 and "left" in empty.columns


def test_csv_rows_one_per_face_one_for_no_face_and_one_for_errors() -> None:
    result = detect_on(Image.new("RGB", (200, 160), GREY), [one_face(), Face(box=BoundingBox(left=0, top=0, width=5, height=5))])
    rows = csv_rows(BatchItem(0, "a.jpg", result=result))
    assert [r["face_index"] for r in rows] == [0, 1]
    assert rows[0]["gender"] == "female" and rows[0]["age"] == 27.4 and rows[1]["gender"] is None
    assert json.loads(rows[0]["landmarks_json"]) == {"nose_tip": [70.0, 90.0]}
    assert all(set(r) == set(CSV_COLUMNS) for r in rows)
    empty = detect_on(Image.new("RGB", (200, 160), GREY), [])
    (no_face,) = csv_rows(BatchItem(1, "b.jpg", result=empty))
    assert no_face["status"] == "ok" and no_face["face_count"] == 0 and no_face["face_index"] is None
    (failed,) = csv_rows(BatchItem(2, "c.jpg", error=ValueError("bad")))
    assert (failed["status"], failed["error_type"], failed["error_message"]) == ("error", "ValueError", "bad")


def test_item_record_round_trips_the_result() -> None:
    result = detect_on(Image.new("RGB", (200, 160), GREY), [one_face()])
    record = json.loads(json.dumps(item_record(BatchItem(4, "x.png", result=result))))
    assert record["status"] == "ok" and record["index"] == 4 and record["error"] is None
    assert DetectionResult.model_validate(record["result"]) == result

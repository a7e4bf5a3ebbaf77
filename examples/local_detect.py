"""Detect faces offline with the local ONNX engine and save an annotated copy.

Usage:
    python examples/local_detect.py examples/images/grace_hopper.jpg --out annotated.png

No account and no network once the weights are cached (`facekit models fetch`).
"""

from __future__ import annotations

import argparse

from facekit import FaceClient, FacekitError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", help="path, URL or bytes file of a photo")
    parser.add_argument("--out", default=None, help="write the photo with boxes and labels here (PNG)")
    args = parser.parse_args(argv)
    try:
        client = FaceClient("local")
        result = client.detect(args.image, attributes=["age", "gender", "emotion", "head_pose"], landmarks=True)
    except FacekitError as exc:
        print(f"error: {exc}")
        return 1
    print(f"{len(result.faces)} face(s) in a {result.image.width}x{result.image.height} image")
    for face in result.faces:
        attributes = face.attributes
        gender = attributes.gender.value if attributes.gender else "?"
        emotion = attributes.emotion.dominant if attributes.emotion else "?"
        left, top, width, height = (round(v) for v in face.box.xywh)
        print(f"#{face.index}: box ({left}, {top}, {width}, {height}) px, {gender}, age {attributes.age:.0f}, {emotion}")
    if args.out:
        result.draw().save(args.out)
        print(f"annotated copy written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

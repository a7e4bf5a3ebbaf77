"""The 2018 Azure Face quickstart, through facekit: detect faces and draw each box with gender and age.

The original posted to ``/face/v1.0/detect`` with ``requests`` and read ``faceRectangle`` and
``faceAttributes`` by hand. Here facekit sends the request, validates it and returns typed faces.
Age and gender were retired by Microsoft in June 2023: only an old endpoint (or a recording)
still returns them, so the call opts in with ``allow_retired_attributes=True``.

Usage::

    python examples/azure_quickstart.py photo.jpg --out faces.png \\
        --endpoint https://<name>.cognitiveservices.azure.com --key <key>

Endpoint and key may instead come from ``FACEKIT_AZURE_ENDPOINT``/``FACE_ENDPOINT`` and
``FACEKIT_AZURE_KEY``/``FACE_APIKEY``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from facekit import DetectionResult, FaceClient, open_image


def detect(image: str, *, endpoint: str | None, key: str | None, api_version: str) -> DetectionResult:
    """Detect faces with age and gender, as the 2018 quickstart did."""
    with FaceClient(
        "azure-rest", endpoint=endpoint, key=key, api_version=api_version, allow_retired_attributes=True
    ) as client:
        return client.detect(image, attributes=["age", "gender", "head_pose", "smile", "facial_hair", "glasses"])


def draw(image: str, result: DetectionResult, out: str) -> None:
    """Draw each face's box and "Gender, age" label over the image and save it as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import patches

    picture = open_image(image).rgb() if result.image.source != "url" else None
    figure = plt.figure(figsize=(8, 8))
    axes = figure.add_subplot()
    if picture is not None:
        axes.imshow(picture, alpha=0.6)
    for face in result.faces:
        box = face.box
        axes.add_patch(patches.Rectangle((box.left, box.top), box.width, box.height, fill=False, linewidth=2, color="b"))
        gender = face.attributes.gender.value.capitalize() if face.attributes.gender else "?"
        age = f"{face.attributes.age:.0f}" if face.attributes.age is not None else "?"
        axes.text(box.left, box.top, f"{gender}, {age}", fontsize=20, weight="bold", va="bottom")
    if picture is None:  # a URL that was not downloaded: no pixels, keep the boxes in view
        axes.invert_yaxis()
        axes.autoscale()
    axes.axis("off")
    figure.savefig(out, format="png")
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", help="image path or http(s) URL")
    parser.add_argument("--out", default="faces.png", help="PNG to write (default faces.png)")
    parser.add_argument("--endpoint", help="Azure Face endpoint (else FACEKIT_AZURE_ENDPOINT / FACE_ENDPOINT)")
    parser.add_argument("--key", help="subscription key (else FACEKIT_AZURE_KEY / FACE_APIKEY)")
    parser.add_argument("--api-version", default="v1.0", help="API version (default v1.0, as in 2018)")
    args = parser.parse_args(argv)
    result = detect(args.image, endpoint=args.endpoint, key=args.key, api_version=args.api_version)
    for face in result.faces:
        gender = face.attributes.gender.value if face.attributes.gender else None
        print(f"face {face.index}: box {face.box.xywh} gender {gender} age {face.attributes.age}")
    draw(args.image, result, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

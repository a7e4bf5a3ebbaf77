"""The Azure AI Vision Face SDK sample (detection_01 with head pose, occlusion and accessories),
through facekit's ``azure-sdk`` backend.

The SDK sample builds ``FaceClient(endpoint, AzureKeyCredential(key))`` and calls
``detect(image_content=..., detection_model=..., recognition_model=..., return_face_id=True,
return_face_attributes=[...])``, then reads the wire JSON by hand. Here facekit builds the
client, checks the request against the model before sending, and returns typed faces in
pixels of the upright image. Face ids need Limited Access approval, so they are off unless
``--face-id`` is given.

Usage::

    pip install 'facekit-detect[azure-sdk]'
    python examples/azure_sdk_detect.py photo.jpg --endpoint https://<name>.cognitiveservices.azure.com --key <key>

Endpoint and key may instead come from ``FACEKIT_AZURE_ENDPOINT``/``FACE_ENDPOINT`` and
``FACEKIT_AZURE_KEY``/``FACE_APIKEY``; with no key and ``azure-identity`` installed,
``DefaultAzureCredential`` is used (Microsoft Entra ID).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from facekit import DetectionResult, FaceClient, FacekitError

ATTRIBUTES = ["head_pose", "occlusion", "accessories"]


def detect(image: str, *, face_id: bool = False, **options: Any) -> DetectionResult:
    """Detect faces with head pose, occlusion and accessories (detection_01), as the SDK sample.

    Args:
        image: Path, URL or anything ``FaceClient.detect`` takes.
        face_id: Ask for face ids (Azure Limited Access).
        **options: ``azure-sdk`` backend options (``endpoint``, ``key``, ``credential``, ``transport``...).
    """
    options.setdefault("detection_model", "detection_01")
    with FaceClient("azure-sdk", **options) as client:
        return client.detect(image, attributes=ATTRIBUTES, face_id=face_id)


def describe(result: DetectionResult) -> list[str]:
    """One line per face: box in pixels, head pose in degrees, occlusion, accessories."""
    lines = [f"{len(result.faces)} face(s) in a {result.image.width}x{result.image.height} image"]
    for face in result.faces:
        a = face.attributes
        pose = f"roll {a.head_pose.roll} yaw {a.head_pose.yaw} pitch {a.head_pose.pitch}" if a.head_pose else "no pose"
        occluded = (
            ", ".join(part for part in ("forehead", "eye", "mouth") if getattr(a.occlusion, part)) or "none"
            if a.occlusion
            else "unknown"
        )
        worn = ", ".join(f"{item.type} {item.confidence}" for item in a.accessories) if a.accessories else "none"
        lines.append(
            f"#{face.index}: box (left, top, width, height) = {face.box.xywh} px; {pose}; "
            f"occluded: {occluded}; accessories: {worn}" + (f"; face id {face.face_id}" if face.face_id else "")
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image", help="image path or http(s) URL")
    parser.add_argument("--endpoint", help="resource endpoint (default: FACEKIT_AZURE_ENDPOINT / FACE_ENDPOINT)")
    parser.add_argument("--key", help="resource key (default: FACEKIT_AZURE_KEY / FACE_APIKEY)")
    parser.add_argument("--face-id", action="store_true", help="also return face ids (Limited Access)")
    args = parser.parse_args(argv)
    options = {name: value for name, value in (("endpoint", args.endpoint), ("key", args.key)) if value}
    try:
        result = detect(args.image, face_id=args.face_id, **options)
    except FacekitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(describe(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Conformance harness for the ``fake`` backend: the handler plays the service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from facekit import BoundingBox, Face, FaceAttributes, FaceClient, HeadPose, InputSpec, Point
from facekit.backends import BackendResult
from tests.conformance.harness import HarnessInfo, Scenario, iter_faces, noise_image


class FakeHarness:
    info = HarnessInfo(name="fake", unsupported_attribute="emotion", max_upload_bytes=4_000_000)

    @contextmanager
    def client(self, scenario: Scenario) -> Iterator[FaceClient]:
        def handler(payload, request):  # type: ignore[no-untyped-def]
            assert payload.width and payload.height
            faces = []
            for left, top, width, height in iter_faces(scenario, payload.width, payload.height):
                attributes = (
                    FaceAttributes(head_pose=HeadPose(roll=1.0, yaw=2.0, pitch=3.0))
                    if request.attributes
                    else FaceAttributes()
                )
                landmarks = {"nose_tip": Point(x=left + width / 2, y=top + height / 2)} if request.landmarks else None
                faces.append(
                    Face(
                        box=BoundingBox(left=left, top=top, width=width, height=height),
                        confidence=0.9,
                        attributes=attributes,
                        landmarks=landmarks,
                    )
                )
            return BackendResult(faces=faces, raw={"faces": len(faces)}, models={"detector": "fake"})

        spec = InputSpec(
            kinds=frozenset({"bytes"}),
            formats=frozenset({"JPEG", "PNG"}),
            max_bytes=self.info.max_upload_bytes,
            min_side=80,
        )
        attributes = [a for a in ("head_pose", "age", "blur") if a != self.info.unsupported_attribute]
        yield FaceClient("fake", handler=handler, attributes=attributes, input_spec=spec)

    def image(self, scenario: Scenario, size: tuple[int, int]) -> Image.Image:
        return noise_image(size)


HARNESS = FakeHarness()

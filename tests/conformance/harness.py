"""The conformance harness interface every backend's test adapter implements.

A harness builds a :class:`~facekit.FaceClient` whose backend talks to a stand-in service
(a loopback server, ``responses``, a Stubber, a test transport) that answers with the faces
of a scenario, given as ratios of **the image the service receives**. The conformance tests
then check that facekit hands them back in pixels of the caller's upright image, whatever
resizing, re-encoding or EXIF rotation happened on the way.

Add a backend by writing ``tests/conformance/harness_<name>.py`` that defines ``HARNESS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image

from facekit import FaceClient, RatioBox


@dataclass(frozen=True)
class Scenario:
    """What the stand-in service should answer.

    Attributes:
        faces: Face boxes as ratios of the image the service receives.
        attributes: Canonical attributes the test asks for.
    """

    faces: tuple[RatioBox, ...]
    attributes: tuple[str, ...] = ()
    landmarks: bool = False


@dataclass
class HarnessInfo:
    """Static facts a harness declares.

    Attributes:
        name: Backend name the client must report.
        box_tolerance: Allowed error of each box edge, as a fraction of the face's size.
        supported_attribute: One attribute the backend returns (asked for in tests).
        unsupported_attribute: One canonical attribute it cannot return, or None.
        max_upload_bytes: The backend's byte limit for uploads (None: no limit to test).
        landmarks: Whether the backend returns landmarks.
    """

    name: str
    box_tolerance: float = 0.02
    supported_attribute: str | None = "head_pose"
    unsupported_attribute: str | None = None
    max_upload_bytes: int | None = None
    landmarks: bool = True
    extra: dict[str, object] = field(default_factory=dict)


class Harness(Protocol):
    """A backend's adapter for the conformance suite."""

    info: HarnessInfo

    def client(self, scenario: Scenario) -> AbstractContextManager[FaceClient]:
        """A client whose stand-in service answers with ``scenario``'s faces."""

    def image(self, scenario: Scenario, size: tuple[int, int]) -> Image.Image:
        """An upright image of ``size`` (width, height) pixels for ``scenario``.

        Cloud harnesses return any picture (the stand-in service does not look at it);
        the local engine's harness draws real faces at the scenario's boxes.
        """


def noise_image(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """A deterministic RGB noise image (incompressible, so it exercises byte limits)."""
    import random

    rng = random.Random(seed)
    width, height = size
    return Image.frombytes("RGB", size, rng.randbytes(width * height * 3))


def iter_faces(scenario: Scenario, width: int, height: int) -> Iterator[tuple[float, float, float, float]]:
    """The scenario's faces in pixels of a ``width`` x ``height`` image (left, top, w, h)."""
    for box in scenario.faces:
        yield box.left * width, box.top * height, box.width * width, box.height * height

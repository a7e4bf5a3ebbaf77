"""What the 468-point mesh tells: named landmarks, eyes and mouth open, head pose, a smile cue.

Everything here is plain numpy on mesh points in image pixels (x right, y down, z away from
the camera, in the same pixel scale). Indices are MediaPipe's face mesh topology; "left"
and "right" in names are the **viewer's** (the person's right eye is the viewer's left).

Named landmarks (:data:`facekit._vocabulary.MESH_LANDMARKS`) fill every canonical name that Azure (27) or
Rekognition (30) returns. A name maps to one mesh point or to the mean of several. The
mesh has no iris: pupils are the centre of the eye contour (the eye's 16 points), the same
point as Rekognition's eye centre.

Ratios (3-D distances, so that a turned head does not shrink the widths):

* eye aspect ratio (EAR): mean of the lid gaps 159-145, 158-153, 160-144 (viewer's left eye;
  386-374, 385-380, 387-373 right) over the corner distance 33-133 (362-263), averaged over
  both eyes;
* mouth aspect ratio (MAR): inner-lip gap 13-14 over the mouth-corner distance 61-291;
* smile cue: how far the mouth corners sit above the line through the lip centre
  (13, 14), over the mouth width, in the face's frame (roll removed), plus the mouth
  width over the outer eye-corner distance.

Thresholds (:data:`EYES_OPEN_EAR`, :data:`MOUTH_OPEN_MAR`, :data:`SMILE_LIFT`) and their
calibration: ``docs/mesh.md``. A confidence is ``0.5 + 0.5 * tanh(|ratio - threshold| / width)``:
0.5 at the threshold, towards 1 away from it.

Head pose: an orthonormal face frame from the 3-D points (x: the mean of the eye-corner,
cheek and mouth-corner vectors; y: forehead 10 to chin 152, made orthogonal to x), turned
into roll, yaw, pitch with the same sign conventions as :mod:`facekit.local.pose`; pitch is
measured from :data:`PITCH_ZERO`, the frame's tilt on faces looking at the camera.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from facekit._vocabulary import MESH_LANDMARKS

__all__ = [
    "EYES_OPEN_EAR",
    "MESH_ATTRIBUTES",
    "MESH_LANDMARKS",
    "MOUTH_OPEN_MAR",
    "PITCH_ZERO",
    "SMILE_LIFT",
    "MeshMeasures",
    "confidence",
    "measure",
    "named_landmarks",
]

_EYE_L = MESH_LANDMARKS["left_eye"]
_EYE_R = MESH_LANDMARKS["right_eye"]

MESH_ATTRIBUTES: frozenset[str] = frozenset({"eyes_open", "mouth_open"})
"""Attributes that only the mesh answers (asking for one runs it)."""

EYES_OPEN_EAR = 0.16
"""Eye aspect ratio above which the eyes are open."""
EAR_WIDTH = 0.04
"""Scale of the eyes-open confidence (EAR units)."""

MOUTH_OPEN_MAR = 0.06
"""Mouth aspect ratio above which the mouth is open."""
MAR_WIDTH = 0.05
"""Scale of the mouth-open confidence (MAR units)."""

SMILE_LIFT = 0.0
"""Mouth-corner lift (over mouth width) above which the mouth geometry says smile."""
LIFT_WIDTH = 0.03
"""Scale of the smile confidence (lift units)."""

PITCH_ZERO = -4.2
"""Pitch of the mesh frame, degrees, for a face looking at the camera (subtracted)."""


def confidence(ratio: float, threshold: float, width: float) -> float:
    """Confidence 0.5..1 in the decision ``ratio > threshold``: ``0.5 + 0.5 tanh(|r - t| / w)``."""
    return 0.5 + 0.5 * math.tanh(abs(ratio - threshold) / width)


def named_landmarks(points: npt.ArrayLike) -> dict[str, tuple[float, float]]:
    """Canonical name -> (x, y) pixels for one face's (468, 2 or 3) mesh points."""
    p = np.asarray(points, dtype=np.float64)
    return {
        name: (float(p[list(idx), 0].mean()), float(p[list(idx), 1].mean())) for name, idx in MESH_LANDMARKS.items()
    }


class MeshMeasures:
    """Ratios and pose of one face from its mesh.

    Attributes:
        ear: Eye aspect ratio, both eyes' mean (see the module docstring).
        mar: Mouth aspect ratio.
        lift: Mouth-corner lift over mouth width (positive: corners above the lip centre).
        mouth_width: Mouth-corner distance over outer eye-corner distance.
        roll: Degrees, > 0 clockwise in the image.
        yaw: Degrees, > 0 when the nose points toward the viewer's right.
        pitch: Degrees, > 0 when the face tilts up.
    """

    def __init__(self, ear: float, mar: float, lift: float, mouth_width: float, pose: tuple[float, float, float]):
        self.ear, self.mar, self.lift, self.mouth_width = ear, mar, lift, mouth_width
        self.roll, self.yaw, self.pitch = pose

    def as_dict(self) -> dict[str, float]:
        """Every measure by name (for the raw payload)."""
        return {
            "ear": self.ear,
            "mar": self.mar,
            "lift": self.lift,
            "mouth_width": self.mouth_width,
            "roll": self.roll,
            "yaw": self.yaw,
            "pitch": self.pitch,
        }


def _dist(p: npt.NDArray[np.float64], a: int, b: int) -> float:
    return float(np.linalg.norm(p[a] - p[b]))


def _unit(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n = float(np.linalg.norm(v))
    out: npt.NDArray[np.float64] = v / n if n > 1e-9 else v
    return out


def face_frame(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(3, 3) rotation whose rows are the face's x (viewer's left to right), y (down), z axes."""
    x = _unit((p[263] - p[33]) + (p[454] - p[234]) + (p[291] - p[61]))
    y = p[152] - p[10]
    y = _unit(y - np.dot(y, x) * x)
    z = np.cross(x, y)
    return np.stack([x, y, z])


def pose_angles(p: npt.NDArray[np.float64]) -> tuple[float, float, float]:
    """(roll, yaw, pitch) degrees from (468, 3) mesh points; signs as :mod:`facekit.local.pose`."""
    r = face_frame(p)  # rows: face axes in camera coordinates (x right, y down, z away)
    x, _, z = r
    # z points from the face into the head (away from the camera when frontal).
    yaw = math.degrees(math.atan2(-z[0], z[2]))
    pitch = math.degrees(math.atan2(z[1], math.hypot(z[0], z[2]))) - PITCH_ZERO
    roll = math.degrees(math.atan2(x[1], x[0]))
    return roll, yaw, pitch


def measure(points: npt.NDArray[np.floating]) -> MeshMeasures:
    """Eye and mouth ratios, smile cue and head pose of one face's (468, 3) mesh."""
    p = np.asarray(points, dtype=np.float64)
    ears = []
    for (a, b), pairs in (
        ((33, 133), ((159, 145), (158, 153), (160, 144))),
        ((362, 263), ((386, 374), (385, 380), (387, 373))),
    ):
        width = max(_dist(p, a, b), 1e-6)
        ears.append(sum(_dist(p, u, v) for u, v in pairs) / (3 * width))
    mouth = max(_dist(p, 61, 291), 1e-6)
    mar = _dist(p, 13, 14) / mouth
    frame = face_frame(p)
    q = p @ frame.T  # points in the face's frame: y down the face
    centre_y = (q[13, 1] + q[14, 1]) / 2
    lift = float((centre_y - (q[61, 1] + q[291, 1]) / 2) / mouth)
    mouth_width = mouth / max(_dist(p, 33, 263), 1e-6)
    return MeshMeasures(float(np.mean(ears)), mar, lift, mouth_width, pose_angles(p))

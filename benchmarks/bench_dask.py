"""Benchmark ``facekit.dask`` on a ``distributed.LocalCluster`` of this machine.

Run:  PYTHONPATH=. python benchmarks/bench_dask.py [--photos 200] [--runs 1] [--rate 10]

1. Local engine throughput over ``--photos`` real photos (the annotated and smoke photos of
   ../shared/eval when present, else the public-domain photos shipped in tests/, repeated under
   distinct names to reach the count), with 1 and 2 worker processes (1 thread each, onnxruntime
   ``intra_op_threads=1``), attributes age, gender and emotion, written with ``detect_to_parquet``
   (``partition_size`` 8). Startup (cluster + the first task's model loading) is timed apart from
   the steady run. Per-worker memory is the worker processes' RSS after the run.
   The reference is ``FaceClient("local").detect_many`` in this process (batched, the same
   photos, onnxruntime's default threads): what one machine does without Dask.
2. Cluster-wide rate limit: a loopback Rekognition stand-in (tests/aws/standin.py, real boto3 on
   the workers), 2 workers x 4 threads per task, ``rate_limit=--rate`` calls/s, 6 s worth of
   calls; calls/s and the most calls in any 1 s window are measured at the stand-in, with and
   without the limit.

There is no other Dask face-detection tool to compare with; the comparison is facekit in one
process (``detect_many``) against facekit on Dask. Prints medians over ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "eval"
ATTRIBUTES = ["age", "gender", "emotion"]


def source_photos() -> list[Path]:
    found = sorted((SHARED / "images" / "dlib").glob("*.jpg")) + sorted((SHARED / "smoke").glob("*.*"))
    if not found:
        found = [ROOT / "tests" / "data" / "grace_hopper.jpg", ROOT / "tests" / "local" / "data" / "astronaut.jpg"]
    return found


def make_inputs(folder: Path, count: int) -> list[str]:
    photos = source_photos()
    inputs = []
    for number in range(count):
        photo = photos[number % len(photos)]
        target = folder / f"{number:04d}-{photo.name}"
        shutil.copyfile(photo, target)
        inputs.append(str(target))
    return inputs


def worker_rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def local_throughput(inputs: list[str], workers: int, folder: Path, run: int) -> dict[str, float]:
    from distributed import Client, LocalCluster

    import facekit.dask as fd

    started = time.monotonic()
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(workers)
        # warm-up: one tiny partition per worker loads its models (timed as startup)
        warm = [str(ROOT / "tests" / "data" / "grace_hopper.jpg")] * workers
        fd.detect(warm, attributes=ATTRIBUTES, intra_op_threads=1, partition_size=1).compute()
        startup = time.monotonic() - started
        out = folder / f"out-{workers}-{run}.parquet"
        summary = fd.detect_to_parquet(inputs, out, attributes=ATTRIBUTES, intra_op_threads=1, partition_size=8)
        rss = client.run(worker_rss)
        builds = client.run(fd.cache_stats)
    assert summary.processed == len(inputs), summary
    return {
        "startup_s": startup,
        "seconds": summary.seconds,
        "images_per_s": len(inputs) / summary.seconds,
        "faces": summary.faces,
        "failed": summary.failed,
        "rss_mib_max": max(rss.values()) / 2**20,
        "clients_built_per_worker": max(sum(b.values()) for b in builds.values()),
    }


def in_process(inputs: list[str]) -> dict[str, float]:
    from facekit import FaceClient

    with FaceClient("local") as client:
        list(client.detect_many(inputs[:4], attributes=ATTRIBUTES))  # load the models
        start = time.monotonic()
        items = list(client.detect_many(inputs, attributes=ATTRIBUTES))
        seconds = time.monotonic() - start
    return {"seconds": seconds, "images_per_s": len(inputs) / seconds,
            "faces": sum(len(i.result.faces) for i in items if i.result is not None)}


def rate_limit(rate: float | None, calls: int) -> dict[str, float]:
    from distributed import Client, LocalCluster

    import facekit.dask as fd
    from tests.aws.standin import RekognitionStandIn

    arrivals: list[float] = []

    def handler(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        arrivals.append(time.monotonic())
        time.sleep(0.05)  # a provider's service time
        return 200, {"FaceDetails": [{"BoundingBox": {"Width": 0.2, "Height": 0.3, "Left": 0.1, "Top": 0.1},
                                      "Confidence": 99.0}]}

    photo = str(ROOT / "tests" / "data" / "grace_hopper.jpg")
    with (
        RekognitionStandIn(handler) as service,
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster),
    ):
        options = {"endpoint_url": service.url, "region": "eu-west-1", "max_attempts": 1,
                   "aws_access_key_id": "AKIAFACEKITBENCH0001", "aws_secret_access_key": "bench-secret-not-real"}
        frame = fd.detect([photo] * calls, "aws", rate_limit=rate, workers=4, partition_size=6, **options)
        rows = frame.compute()
    assert rows["ok"].all() and len(arrivals) == calls
    span = arrivals[-1] - arrivals[0]
    window = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    return {"calls_per_s": (calls - 1) / span, "max_in_1s": window}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--rate", type=float, default=10.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="facekit-bench-dask-"))
    try:
        inputs = make_inputs(folder, args.photos)
        print(f"{len(inputs)} photos from {len(source_photos())} distinct real photos; {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.1f}")
        reference = [in_process(inputs) for _ in range(args.runs)]
        print(f"in-process detect_many: {statistics.median(r['images_per_s'] for r in reference):.2f} images/s "
              f"({statistics.median(r['seconds'] for r in reference):.1f} s, {reference[0]['faces']} faces)")
        per_workers: dict[int, float] = {}
        for workers in (1, 2):
            runs = [local_throughput(inputs, workers, folder, run) for run in range(args.runs)]
            rate = statistics.median(r["images_per_s"] for r in runs)
            per_workers[workers] = rate
            print(f"dask {workers} worker(s): {rate:.2f} images/s "
                  f"({statistics.median(r['seconds'] for r in runs):.1f} s; startup incl. model load "
                  f"{statistics.median(r['startup_s'] for r in runs):.1f} s; {runs[0]['faces']} faces, "
                  f"{runs[0]['failed']} failed; worker RSS {statistics.median(r['rss_mib_max'] for r in runs):.0f} MiB; "
                  f"clients built per worker {runs[0]['clients_built_per_worker']:.0f})")
        print(f"2 workers / 1 worker: {per_workers[2] / per_workers[1]:.2f}x; "
              f"1 worker / in-process: {per_workers[1] / statistics.median(r['images_per_s'] for r in reference):.2f}x")
        calls = int(args.rate * 6)
        limited = [rate_limit(args.rate, calls) for _ in range(args.runs)]
        free = [rate_limit(None, calls) for _ in range(args.runs)]
        print(f"rate limit {args.rate:g}/s, 2 workers x 4 threads, {calls} calls: "
              f"{statistics.median(r['calls_per_s'] for r in limited):.2f} calls/s at the stand-in, "
              f"at most {statistics.median(r['max_in_1s'] for r in limited):.0f} in any 1 s; "
              f"without the limit {statistics.median(r['calls_per_s'] for r in free):.1f} calls/s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

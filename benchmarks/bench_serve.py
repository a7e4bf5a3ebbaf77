"""Benchmark ``facekit serve`` on the local engine: throughput and latency under 1, 4 and 16
concurrent clients, the gain of micro-batching, and what 64 clients get from a full queue.

Run:  python benchmarks/bench_serve.py [--runs 3] [--requests 48]

The server runs as its own process (``python -m facekit serve``, uvicorn on 127.0.0.1) so that
the client threads do not share its interpreter. Each client is a thread with its own
``requests.Session`` posting the seed quickstart's Azure v1.0 call (``returnFaceAttributes=
age,gender,emotion``) with Grace Hopper's photo as bytes, one request after the other.

Figures (medians over ``--runs`` runs):

1. For 1, 4 and 16 clients, with batching on (default: 5 ms window, up to 8 images per
   ``detect_batch``) and off (``--max-batch 1``): requests/s, p50 and p99 latency in ms.
2. The reference without a server: ``FaceClient("local").detect`` in this process, one image
   at a time, and ``detect_many`` (batched), in images/s.
3. 64 clients, each sending one request at the same moment, to a server admitting 32
   (``--max-queue 32``, the default): how many get 200 and how many 429, their latencies and the
   ``Retry-After`` they are told.

No other tool answers Azure Face Detect or Rekognition DetectFaces offline (moto has no
``detect_faces``; Azure has no Face emulator), so the comparison is with facekit itself: the
unbatched server and the in-process client.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "data" / "grace_hopper.jpg"
QUERY = {"returnFaceId": "false", "returnFaceAttributes": "age,gender,emotion"}
HEADERS = {"Content-Type": "application/octet-stream"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(*extra: str) -> Iterator[str]:
    """``python -m facekit serve`` in a subprocess; yields its URL once ``/healthz`` answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "facekit", "serve", "--port", str(port), "--log-level", "warning", *extra],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"server did not start: {log}") from exc
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def load(url: str, clients: int, total: int, data: bytes) -> dict[str, float]:
    """``clients`` threads sending ``total`` requests in all; requests/s and latency percentiles (ms)."""
    per_client = max(1, total // clients)
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        nonlocal failures
        session = requests.Session()
        barrier.wait()
        for _ in range(per_client):
            start = time.perf_counter()
            answer = session.post(f"{url}/face/v1.0/detect", params=QUERY, data=data, headers=HEADERS, timeout=120)
            elapsed = time.perf_counter() - start
            with lock:
                if answer.status_code == 200 and answer.json():
                    latencies.append(elapsed)
                else:
                    failures += 1
        session.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {
        "rps": len(latencies) / wall,
        "p50": 1000 * percentile(latencies, 50),
        "p99": 1000 * percentile(latencies, 99),
        "failed": failures,
    }


def burst(url: str, clients: int, data: bytes) -> dict[str, Any]:
    """``clients`` requests released at once; counts and latencies per status, Retry-After values."""
    outcomes: list[tuple[int, float, str | None]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client() -> None:
        session = requests.Session()
        session.get(f"{url}/healthz", timeout=30)  # connect before the burst
        barrier.wait()
        start = time.perf_counter()
        answer = session.post(f"{url}/face/v1.0/detect", params=QUERY, data=data, headers=HEADERS, timeout=120)
        with lock:
            outcomes.append((answer.status_code, time.perf_counter() - start, answer.headers.get("Retry-After")))
        session.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ok = [seconds for status, seconds, _ in outcomes if status == 200]
    refused = [seconds for status, seconds, _ in outcomes if status == 429]
    retry = sorted({int(value) for status, _, value in outcomes if status == 429 and value})
    return {
        "ok": len(ok), "refused": len(refused), "other": len(outcomes) - len(ok) - len(refused),
        "ok_p50": 1000 * statistics.median(ok) if ok else float("nan"),
        "refused_p50": 1000 * statistics.median(refused) if refused else float("nan"),
        "retry_after": retry,
    }


def in_process(data: bytes, count: int) -> dict[str, float]:
    from facekit import FaceClient

    with FaceClient("local") as client:
        client.detect(data, attributes=["age", "gender", "emotion"])  # load the models
        start = time.perf_counter()
        for _ in range(count):
            client.detect(data, attributes=["age", "gender", "emotion"])
        single = count / (time.perf_counter() - start)
        start = time.perf_counter()
        items = list(client.detect_many([data] * count, attributes=["age", "gender", "emotion"]))
        batched = count / (time.perf_counter() - start)
        assert all(item.ok for item in items)
    return {"single": single, "batched": batched}


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=48, help="requests per load level and run")
    parser.add_argument("--clients", default="1,4,16")
    args = parser.parse_args(argv)
    data = PHOTO.read_bytes()
    levels = [int(part) for part in args.clients.split(",")]
    print(f"facekit serve on the local engine; {os.cpu_count()} CPUs; {args.runs} runs; "
          f"{args.requests} requests per level; Azure v1.0 detect, age,gender,emotion, {PHOTO.name}")
    figures: dict[tuple[str, int], list[dict[str, float]]] = {}
    for mode, extra in (("batched", ()), ("unbatched", ("--max-batch", "1"))):
        with server(*extra) as url:
            load(url, 2, 8, data)  # warm up: models loaded, connections made
            for _ in range(args.runs):
                for clients in levels:
                    figures.setdefault((mode, clients), []).append(load(url, clients, args.requests, data))
    print()
    print(f"{'clients':>7} {'mode':>10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failed':>6}")
    for clients in levels:
        for mode in ("batched", "unbatched"):
            runs = figures[(mode, clients)]
            print(f"{clients:>7} {mode:>10} {median_of(runs, 'rps'):8.2f} {median_of(runs, 'p50'):8.0f} "
                  f"{median_of(runs, 'p99'):8.0f} {int(sum(r['failed'] for r in runs)):>6}")
    for clients in levels:
        gain = median_of(figures[("batched", clients)], "rps") / median_of(figures[("unbatched", clients)], "rps")
        print(f"batching gain at {clients} clients (req/s batched / unbatched): {gain:.2f}x")
    one = median_of(figures[("batched", levels[0])], "rps")
    print(f"throughput {levels[-1]} clients batched / 1 client one at a time: "
          f"{median_of(figures[('batched', levels[-1])], 'rps') / one:.2f}x")
    reference = [in_process(data, args.requests // 2) for _ in range(args.runs)]
    print(f"in process, no server: detect one at a time {median_of(reference, 'single'):.2f} images/s, "
          f"detect_many {median_of(reference, 'batched'):.2f} images/s")
    print()
    with server("--max-queue", "32") as url:
        load(url, 2, 8, data)
        bursts = [burst(url, 64, data) for _ in range(args.runs)]
    for number, result in enumerate(bursts, 1):
        print(f"64 clients at once, queue limit 32, burst {number}: {result['ok']} answered 200 "
              f"(p50 {result['ok_p50']:.0f} ms), {result['refused']} got 429 (p50 {result['refused_p50']:.0f} ms, "
              f"Retry-After {result['retry_after']} s), {result['other']} other")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark ``AsyncFaceClient``: 64 concurrent detections against a 100 ms-latency stand-in.

Run:  python benchmarks/bench_async.py [--runs 7] [--concurrency 64] [--latency 0.1]

The stand-in (``tests/aio/latency_standin.py``) runs as its own process, so that the client
does not share its interpreter, and answers every ``POST`` after ``--latency`` seconds with
two faces: the Azure Face wire format for ``azure-rest``, Rekognition's for ``aws``. Each round
awaits ``--concurrency`` detections of Grace Hopper's photo (61 KB, as bytes) at once; the
first round (connections opened) is reported apart.

The ideal time of a round is the stand-in's latency: every detection in flight at once, no
client cost. Printed per backend (medians over ``--runs`` warm rounds, with min-max):

* the round's time and its ratio to the ideal;
* threads this process used at the peak (``threading.active_count``) and its peak RSS;
* the worst lag of a heartbeat task ticking every 5 ms on the same loop during the rounds;
* the sync client for comparison: ``FaceClient.detect_many(workers=64)`` over the same inputs;
* the floor, in the same run: as many bare aiohttp POSTs of the same bytes (no facekit), and the
  CPU time per call of both (``time.process_time``, all threads); for ``aws`` also bare POSTs
  that each base64-encode the image into the JSON body and sign it with SigV4 first (the work
  Rekognition requires of any client).

``--decompose`` (aws) also times facekit's rounds with the body and its signature made once and
reused by every call: a diagnostic, not a usable client (the stand-in does not check signatures),
that shows what building and signing each body on the loop costs the round.

``--uvloop`` runs the async rounds on uvloop instead of asyncio's default loop (uvloop is not a
facekit dependency: ``pip install uvloop``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "examples" / "images" / "grace_hopper.jpg"


def _standin(flavour: str, latency: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.aio.latency_standin", flavour, str(latency)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def _options(provider: str, url: str) -> dict[str, Any]:
    if provider == "azure-rest":
        return {"endpoint": url, "key": "bench-key"}
    return {"endpoint_url": url, "region": "us-east-1", "aws_access_key_id": "AKIDBENCH", "aws_secret_access_key": "bench"}


async def _rounds(
    provider: str, url: str, data: bytes, runs: int, concurrency: int, *, decompose: bool = False
) -> dict[str, Any]:
    from facekit import AsyncFaceClient

    worst_lag = 0.0
    peak_threads = threading.active_count()
    stop = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal worst_lag, peak_threads
        while not stop.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.005)
            worst_lag = max(worst_lag, time.perf_counter() - start - 0.005)
            peak_threads = max(peak_threads, threading.active_count())

    async with AsyncFaceClient(provider, **_options(provider, url)) as client:
        beat = asyncio.create_task(heartbeat())
        times, cpu = await _timed_rounds(client, data, runs, concurrency)
        stop.set()
        await beat
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # before the floors and the diagnostic
    bare, bare_cpu = await _bare_aiohttp(url, data, runs, concurrency)
    signed = (await _bare_aiohttp(url, data, runs, concurrency, sign=True))[0] if provider == "aws" else None
    reused = await _reused_body_rounds(url, data, runs, concurrency) if decompose and provider == "aws" else None
    return {
        "first": times[0], "warm": times[1:], "lag": worst_lag, "threads": peak_threads,
        "cpu_per_call": cpu / (runs * concurrency), "bare": bare, "bare_cpu_per_call": bare_cpu,
        "bare_signed": signed, "reused_body": reused, "peak_rss_kib": peak_rss_kib,
    }


async def _timed_rounds(client: Any, data: bytes, runs: int, concurrency: int) -> tuple[list[float], float]:
    """``runs + 1`` rounds of ``concurrency`` detections at once on ``client``: every round's time
    (the first opens the connections) and the CPU time of the warm rounds, seconds."""
    times: list[float] = []
    cpu = 0.0
    for number in range(runs + 1):
        start, start_cpu = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(client.detect(data) for _ in range(concurrency)))
        times.append(time.perf_counter() - start)
        cpu += (time.process_time() - start_cpu) if number else 0.0
        assert all(len(result.faces) == 2 for result in results)
    return times, cpu


async def _reused_body_rounds(url: str, data: bytes, runs: int, concurrency: int) -> list[float]:
    """facekit's aws rounds with the ``DetectFaces`` body and its SigV4 headers made once and
    reused by every call (diagnostic: what building and signing each body costs the round)."""
    from facekit import AsyncFaceClient
    from facekit.backends import _aws_sigv4 as aws_sigv4
    from facekit.backends import aws_async

    made_body, made_headers = aws_async.detect_faces_body, aws_sigv4.sign_json_post
    first_body: bytes | None = None
    first_headers: dict[str, str] | None = None

    def reused_body(image: bytes, attributes: list[str]) -> bytes:
        nonlocal first_body
        if first_body is None:
            first_body = made_body(image, attributes)
        return first_body

    def reused_headers(target_url: str, body: bytes, **options: Any) -> dict[str, str]:
        nonlocal first_headers
        if first_headers is None:
            first_headers = made_headers(target_url, body, **options)
        return dict(first_headers)

    setattr(aws_async, "detect_faces_body", reused_body)  # noqa: B010 - the names the backend calls
    setattr(aws_async, "sign_json_post", reused_headers)  # noqa: B010
    try:
        async with AsyncFaceClient("aws", **_options("aws", url)) as client:
            times, _ = await _timed_rounds(client, data, runs, concurrency)
        return times[1:]
    finally:
        setattr(aws_async, "detect_faces_body", made_body)  # noqa: B010
        setattr(aws_async, "sign_json_post", made_headers)  # noqa: B010


def _signed_detect_faces(url: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """What any Rekognition client must do per call: base64 the image into the JSON body, sign it (SigV4)."""
    from types import SimpleNamespace

    from facekit.backends._aws_sigv4 import sign_json_post
    from facekit.backends.aws_async import detect_faces_body

    body = detect_faces_body(data, ["DEFAULT"])
    credentials = SimpleNamespace(access_key="AKIDBENCH", secret_key="bench", token=None)
    headers = sign_json_post(
        url + "/", body, target="RekognitionService.DetectFaces", content_type="application/x-amz-json-1.1",
        credentials=credentials, region="us-east-1", service="rekognition",
    )
    return body, headers


async def _bare_aiohttp(
    url: str, data: bytes, runs: int, concurrency: int, *, sign: bool = False
) -> tuple[list[float], float]:
    """The floor: the same number of bare aiohttp POSTs of the same bytes (no facekit), same loop.

    With ``sign``, each POST first does the work Rekognition requires of every client: the image
    base64-encoded into the JSON body and the body signed (SHA-256 and SigV4).
    """
    import aiohttp

    times: list[float] = []
    cpu = 0.0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one() -> bytes:
            body, headers = _signed_detect_faces(url, data) if sign else (data, {})
            async with session.post(url + "/", data=body, headers=headers) as response:
                return await response.read()

        for number in range(runs + 1):
            start, start_cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(one() for _ in range(concurrency)))
            times.append(time.perf_counter() - start)
            cpu += (time.process_time() - start_cpu) if number else 0.0
    return times[1:], cpu / (runs * concurrency)


def _sync_rounds(provider: str, url: str, data: bytes, runs: int, concurrency: int) -> list[float]:
    from facekit import FaceClient

    times: list[float] = []
    with FaceClient(provider, **_options(provider, url)) as client:
        for _ in range(runs + 1):
            start = time.perf_counter()
            items = list(client.detect_many([data] * concurrency, workers=concurrency))
            times.append(time.perf_counter() - start)
            assert all(item.ok for item in items)
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--uvloop", action="store_true", help="run the rounds on uvloop (pip install uvloop)")
    parser.add_argument(
        "--decompose", action="store_true",
        help="aws: also time facekit's rounds with one body and signature reused by every call (diagnostic)",
    )
    args = parser.parse_args()
    data = IMAGE.read_bytes()
    warnings.simplefilter("ignore")
    report: list[dict[str, Any]] = []
    for provider, flavour in (("azure-rest", "azure"), ("aws", "aws")):
        process, url = _standin(flavour, args.latency)
        try:
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            coroutine = _rounds(provider, url, data, args.runs, args.concurrency, decompose=args.decompose)
            if args.uvloop:
                import uvloop

                figures = uvloop.run(coroutine)
            else:
                figures = asyncio.run(coroutine)
            sync_times = _sync_rounds(provider, url, data, args.runs, args.concurrency)
        finally:
            process.kill()
            process.wait()
        warm = figures["warm"]
        rss_after = figures["peak_rss_kib"]
        row = {
            "provider": provider,
            "loop": "uvloop" if args.uvloop else "asyncio",
            "concurrency": args.concurrency,
            "ideal_s": args.latency,
            "first_round_s": round(figures["first"], 3),
            "round_median_s": round(statistics.median(warm), 3),
            "round_min_s": round(min(warm), 3),
            "round_max_s": round(max(warm), 3),
            "ratio_to_ideal": round(statistics.median(warm) / args.latency, 2),
            "peak_threads": figures["threads"],
            "peak_rss_mib": round(rss_after / 1024, 1),
            "rss_growth_mib": round((rss_after - rss_before) / 1024, 1),
            "worst_loop_lag_ms": round(figures["lag"] * 1000, 1),
            "sync_detect_many_median_s": round(statistics.median(sync_times), 3),
            "cpu_per_call_us": round(figures["cpu_per_call"] * 1e6),
            "bare_aiohttp_round_median_s": round(statistics.median(figures["bare"]), 3),
            "bare_aiohttp_cpu_per_call_us": round(figures["bare_cpu_per_call"] * 1e6),
        }
        if figures["bare_signed"]:
            row["bare_aiohttp_base64_sigv4_round_median_s"] = round(statistics.median(figures["bare_signed"]), 3)
        if figures["reused_body"]:
            row["reused_body_round_median_s"] = round(statistics.median(figures["reused_body"]), 3)
        report.append(row)
        print(
            f"{provider:10s} ({row['loop']}) {args.concurrency} at once: round {row['round_median_s']:.3f} s "
            f"(min {row['round_min_s']:.3f}, max {row['round_max_s']:.3f}; first {row['first_round_s']:.3f}) "
            f"= {row['ratio_to_ideal']:.2f}x ideal {args.latency:.3f} s | threads {row['peak_threads']} | "
            f"peak RSS {row['peak_rss_mib']} MiB | loop lag {row['worst_loop_lag_ms']} ms | "
            f"sync detect_many(workers={args.concurrency}) {row['sync_detect_many_median_s']:.3f} s\n"
            f"{'':10s} CPU {row['cpu_per_call_us']} us a call | bare aiohttp, same run: round "
            f"{row['bare_aiohttp_round_median_s']:.3f} s = {row['bare_aiohttp_round_median_s'] / args.latency:.2f}x, "
            f"CPU {row['bare_aiohttp_cpu_per_call_us']} us a call",
            flush=True,
        )
        if "bare_aiohttp_base64_sigv4_round_median_s" in row:
            floor = row["bare_aiohttp_base64_sigv4_round_median_s"]
            from facekit._base64 import CODEC

            print(
                f"{'':10s} bare aiohttp + base64 body ({CODEC}) + SigV4 (what every Rekognition client does), same run: "
                f"round {floor:.3f} s = {floor / args.latency:.2f}x",
                flush=True,
            )
        if "reused_body_round_median_s" in row:
            reused = row["reused_body_round_median_s"]
            print(
                f"{'':10s} facekit with one body and signature reused by every call (diagnostic), same run: "
                f"round {reused:.3f} s = {reused / args.latency:.2f}x",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

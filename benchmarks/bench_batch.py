"""Benchmark ``FaceClient.detect_many`` against a loopback Azure-like service with 100 ms latency.

Run:  python benchmarks/bench_batch.py [--runs 3]

1. Throughput: 200 images, 8 workers. Ideal: 200 * 0.1 s / 8 = 2.5 s. Target: within 1.15x.
2. Rate limit: 50 images, 8 workers, a shared ``RateLimiter(10)``. Target: the rate measured at
   the server within 5% of 10 calls/s and no 429. The server answers 429 when more than 10
   calls arrive within any 0.95 s (a 1 s window less 5% for clock and scheduling jitter).

Uses the real ``azure-rest`` backend (requests) with retries off, so any 429 shows up as a failed
item. Prints medians over ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

from facekit import FaceClient, RateLimiter, RetryPolicy

LATENCY = 0.1
LIMIT, WINDOW = 10, 0.95


class Service:
    """A threaded loopback Face Detect stand-in recording arrival times and 429s."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.arrivals: list[float] = []
        self.rejected = 0
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.monotonic()
                status, answer = service.admit(now), b""
                if status == 200:
                    time.sleep(LATENCY)
                    width, height = Image.open(io.BytesIO(body)).size
                    rectangle = {"left": width // 4, "top": height // 4, "width": width // 2, "height": height // 2}
                    answer = json.dumps([{"faceRectangle": rectangle}]).encode()
                else:
                    answer = b'{"error": {"code": "429", "message": "Rate limit is exceeded."}}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.request_queue_size = 64
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def admit(self, now: float) -> int:
        with self._lock:
            self.arrivals.append(now)
            if self.limit is None:
                return 200
            while self._recent and now - self._recent[0] >= WINDOW:
                self._recent.popleft()
            if len(self._recent) >= self.limit:
                self.rejected += 1
                return 429
            self._recent.append(now)
            return 200

    @property
    def endpoint(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Service:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def images(count: int) -> list[bytes]:
    out = []
    for i in range(count):
        buffer = io.BytesIO()
        Image.new("RGB", (200 + i % 50, 200), (i % 256, 90, 90)).save(buffer, format="JPEG")
        out.append(buffer.getvalue())
    return out


def run_once(count: int, workers: int, limiter: RateLimiter | None, limit: int | None) -> dict[str, Any]:
    data = images(count)
    with Service(limit) as service:
        client = FaceClient("azure-rest", endpoint=service.endpoint, key="bench", retry=RetryPolicy(max_retries=0))
        start = time.monotonic()
        items = list(client.detect_many(data, workers=workers, rate_limiter=limiter))
        elapsed = time.monotonic() - start
        client.close()
    failed = [item for item in items if not item.ok]
    arrivals = sorted(service.arrivals)
    rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    faces_ok = all(item.result is not None and len(item.result.faces) == 1 for item in items if item.ok)
    return {"elapsed": elapsed, "failed": len(failed), "rejected": service.rejected, "rate": rate, "faces_ok": faces_ok}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    throughput = [run_once(200, 8, None, None) for _ in range(args.runs)]
    ideal = 200 * LATENCY / 8
    elapsed = statistics.median(r["elapsed"] for r in throughput)
    ratio = elapsed / ideal
    print(f"throughput: 200 images, 8 workers, {LATENCY * 1000:.0f} ms latency: median {elapsed:.3f} s "
          f"(ideal {ideal:.2f} s, ratio {ratio:.3f}, target <= 1.15; runs "
          f"{', '.join(format(r['elapsed'], '.3f') for r in throughput)}; failed {sum(r['failed'] for r in throughput)})")

    limited = [run_once(50, 8, RateLimiter(LIMIT), LIMIT) for _ in range(args.runs)]
    rate = statistics.median(r["rate"] for r in limited)
    rejected = sum(r["rejected"] for r in limited)
    deviation = abs(rate - LIMIT) / LIMIT
    print(f"rate limit: 50 images, 8 workers, RateLimiter({LIMIT}/s): median achieved {rate:.3f} calls/s "
          f"(deviation {deviation:.1%}, target <= 5%; runs {', '.join(format(r['rate'], '.3f') for r in limited)}); "
          f"429s: {rejected}; failed items: {sum(r['failed'] for r in limited)}")
    ok = ratio <= 1.15 and deviation <= 0.05 and rejected == 0 and all(r["faces_ok"] for r in throughput + limited)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""``facekit detect INPUTS... --dask local:N | tcp://scheduler:8786 --output out.parquet``.

The inputs are expanded as for every ``detect`` run, then detected on a Dask cluster and written
to a Parquet data set (:func:`facekit.dask.detect_to_parquet`): one row per input, a rerun with
the same ``--output`` skips the inputs already there. ``local:N`` starts a ``LocalCluster`` of N
worker processes (one thread each) for the run; ``tcp://host:port`` (or ``tls://``) connects to
a running scheduler. A progress bar counts finished inputs; the Dask dashboard shows the tasks.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from facekit._errors import ConfigurationError

__all__ = ["add_arguments", "run"]

#: ``detect`` options that mean nothing for a Dask run (they are refused, never ignored).
_NOT_WITH_DASK = {"draw": "--draw", "resume": "--resume", "retry_failed": "--retry-failed"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--dask`` (and ``--partition-size``) to the ``detect`` parser."""
    group = parser.add_argument_group("Dask (pip install 'facekit[dask]')")
    group.add_argument(
        "--dask",
        metavar="local:N|tcp://HOST:PORT",
        help="run on Dask: a local cluster of N worker processes, or a scheduler's address; "
        "needs --output DIR.parquet (resumed when run again)",
    )
    group.add_argument(
        "--partition-size", type=int, metavar="N", help="inputs per Dask task (default 32; with --dask)"
    )


def _check(args: argparse.Namespace) -> None:
    for name, flag in _NOT_WITH_DASK.items():
        if getattr(args, name, None):
            what = " (a --dask output is always resumed)" if name == "resume" else ""
            raise ConfigurationError(f"{flag} does not go with --dask{what}")
    if not args.output:
        raise ConfigurationError("--dask needs --output DIR (a Parquet data set, e.g. out.parquet)")
    if args.format != "json":
        raise ConfigurationError("--dask writes Parquet; leave out --format")
    if args.partition_size is not None and args.partition_size < 1:
        raise ConfigurationError(f"--partition-size must be at least 1, got {args.partition_size}")


@contextlib.contextmanager
def _cluster(target: str, quiet: bool) -> Iterator[Any]:
    from facekit._deps import require

    require("distributed", extra="dask", feature="facekit detect --dask")
    from distributed import Client, LocalCluster

    if target.startswith("local"):
        _, _, count = target.partition(":")
        try:
            workers = int(count) if count else 2
        except ValueError:
            workers = 0
        if workers < 1:
            raise ConfigurationError(f"--dask local:N needs a number of workers N >= 1, got {target!r}")
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster, Client(cluster) as client:
            if not quiet:
                print(f"facekit: Dask dashboard at {client.dashboard_link}", file=sys.stderr)
            yield client
    elif "://" in target:
        with Client(target) as client:
            if not quiet:
                print(f"facekit: Dask dashboard at {client.dashboard_link}", file=sys.stderr)
            yield client
    else:
        raise ConfigurationError(f"--dask takes local:N or a scheduler address like tcp://host:8786, got {target!r}")


def run(args: argparse.Namespace) -> int:
    """Run ``facekit detect --dask``; returns the exit code (the same codes as ``detect``)."""
    from facekit import _errors
    from facekit._batch import ProgressBar
    from facekit.cli._backend_args import call_options, calls_per_second, client_settings
    from facekit.cli._exit import EXIT_OK, EXIT_PARTIAL, EXIT_PROVIDER
    from facekit.cli._inputs import expand_inputs
    from facekit.cli._provider_arg import provider_name as _provider_name

    _check(args)
    import facekit.dask as facekit_dask

    entries = expand_inputs(args.images, recursive=args.recursive)
    for entry in entries:
        if entry.error is not None and not args.quiet:  # it still gets its error row, from a worker
            print(f"facekit: {entry.error}", file=sys.stderr)
    names = [entry.name for entry in entries]
    show = args.progress or (not args.quiet and sys.stderr.isatty())
    bar: ProgressBar | None = None

    def progress(done: int, failed: int, total: int) -> None:
        nonlocal bar
        if show:
            bar = bar or ProgressBar(total)
            bar.update(done, failed)

    options: dict[str, Any] = {}
    if args.strict is not None:
        options["strict"] = args.strict
    if args.partition_size is not None:
        options["partition_size"] = args.partition_size
    provider = _provider_name(args.provider)
    options.update(client_settings(args, provider))
    per_call = call_options(args)
    done = facekit_dask.finished_inputs(args.output) if os.path.isdir(args.output) else set()
    if all(name in done for name in names):  # nothing to run: no cluster to start
        if not args.quiet:
            print(f"facekit: 0 input(s), {len(set(names))} already done in {args.output}", file=sys.stderr)
        return EXIT_OK
    with _cluster(args.dask, args.quiet):
        summary = facekit_dask.detect_to_parquet(
            names,
            args.output,
            provider,
            attributes=args.attributes,
            landmarks=args.landmarks,
            config=os.path.expanduser(args.config) if args.config else None,
            profile=args.profile,
            detect_options=per_call or None,
            rate_limit=calls_per_second(args),
            workers=args.workers,
            progress=progress,
            **options,
        )
    if bar is not None:
        bar.close(summary.processed, summary.failed)
    if not args.quiet:
        skipped = f", {summary.skipped} already done" if summary.skipped else ""
        print(
            f"facekit: {summary.processed} input(s), {summary.faces} face(s), {summary.failed} failed{skipped}; "
            f"{summary.files} file(s) in {args.output} ({summary.seconds:.1f} s)",
            file=sys.stderr,
        )
    classes = [getattr(_errors, name, None) for name in summary.error_types]
    provider_only = all(
        isinstance(cls, type) and issubclass(cls, (_errors.ProviderError, _errors.TransportError)) for cls in classes
    )
    if summary.processed and summary.failed == summary.processed and provider_only:
        return EXIT_PROVIDER
    return EXIT_PARTIAL if summary.failed else EXIT_OK

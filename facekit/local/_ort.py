"""onnxruntime session construction shared by the local models."""

from __future__ import annotations

from collections.abc import Sequence

import onnxruntime as ort

__all__ = ["make_session"]


def make_session(
    model: bytes | str,
    *,
    providers: Sequence[str] | None = None,
    intra_op_threads: int | None = None,
    memory_pattern: bool = True,
) -> ort.InferenceSession:
    """Create an ``InferenceSession`` with facekit's defaults.

    Args:
        model: A serialized ONNX model (bytes) or a path to one.
        providers: Execution providers in order of preference; ``None`` means
            ``["CPUExecutionProvider"]``. Providers that this onnxruntime build lacks are
            dropped (the CPU provider is always appended as a fallback); what the session
            really uses is ``session.get_providers()``.
        intra_op_threads: Threads per operator; ``None`` lets onnxruntime decide
            (one per physical core).
        memory_pattern: Let onnxruntime plan one block per input shape (``enable_mem_pattern``).
            Off for a session run from several threads at once on inputs of varying size:
            measured in ``detect_many`` on 2 cores, about 100 MiB less peak memory and no
            slower.

    Returns:
        The session, with all graph optimisations enabled and sequential execution.
    """
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.inter_op_num_threads = 1
    if intra_op_threads is not None:
        opts.intra_op_num_threads = intra_op_threads
    opts.log_severity_level = 3
    opts.enable_mem_pattern = memory_pattern
    # Worker threads spin while a run lasts (waking a sleeping thread for every parallel
    # operator cost the detector 8% at 640 px and 24% at 320 px on two cores) and stop
    # spinning when it ends: several sessions run back to back on each image, and workers
    # left spinning would steal the cores from the next (measured: 56 ms instead of 26 ms
    # for the full pipeline on two cores).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1")
    opts.add_session_config_entry("session.force_spinning_stop", "1")
    available = set(ort.get_available_providers())
    wanted = list(providers) if providers else ["CPUExecutionProvider"]
    chosen = [p for p in wanted if p in available]
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return ort.InferenceSession(model, sess_options=opts, providers=chosen)

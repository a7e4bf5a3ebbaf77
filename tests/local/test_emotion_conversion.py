"""The Keras-to-ONNX conversion of fer's model against an independent numpy forward pass.

The reference below reads the same HDF5 with h5py and evaluates the Keras layers directly
in NHWC (TensorFlow's layout and padding rules), sharing no code with the converter, so a
wrong transpose, padding, grouping or layer order in the ONNX graph makes it fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
import pytest

from facekit.local.emotion import EMOTIONS, EmotionModel, converted_model
from facekit.local.keras_to_onnx import convert_keras_hdf5
from facekit.local.store import ModelStore

F = npt.NDArray[np.float64]


def _same_pad(x: F, k: int, s: int) -> F:
    h, w = x.shape[1:3]
    ph = max((-(-h // s) - 1) * s + k - h, 0)
    pw = max((-(-w // s) - 1) * s + k - w, 0)
    return np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))


def _windows(x: F, k: int, s: int) -> F:
    """(N, H, W, C) -> (N, OH, OW, k, k, C) sliding windows."""
    n, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.empty((n, oh, ow, k, k, c))
    for i in range(k):
        for j in range(k):
            out[:, :, :, i, j, :] = x[:, i : i + s * oh : s, j : j + s * ow : s, :]
    return out


def keras_forward(path: Path, x_nhwc: F) -> F:
    with h5py.File(path, "r") as f:
        cfg = json.loads(f.attrs["model_config"])
        mw = f["model_weights"]

        def weights(name: str) -> dict[str, F]:
            g = mw[name]
            return {
                n.decode().rsplit("/", 1)[-1].split(":")[0]: np.asarray(g[n.decode()], np.float64)
                for n in g.attrs["weight_names"]
            }

        vals: dict[str, F] = {}
        for layer in cfg["config"]["layers"]:
            kind, c = layer["class_name"], layer["config"]
            ins = [vals[n[0]] for n in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            x = ins[0] if ins else x_nhwc
            if kind == "InputLayer":
                y = x_nhwc
            elif kind in ("Conv2D", "SeparableConv2D", "MaxPooling2D"):
                k = (c.get("kernel_size") or c["pool_size"])[0]
                s = c["strides"][0]
                xp = _same_pad(x, k, s) if c["padding"] == "same" else x
                if kind == "MaxPooling2D":
                    if c["padding"] == "same":  # padded cells must never win
                        xp = _same_pad(x - 1e9, k, s) + 1e9
                        xp[xp == 1e9] = -np.inf
                    y = _windows(xp, k, s).max(axis=(3, 4))
                else:
                    wts = weights(c["name"])
                    win = _windows(xp, k, s)
                    if kind == "Conv2D":
                        y = np.einsum("nhwijc,ijco->nhwo", win, wts["kernel"])
                    else:
                        dw = np.einsum("nhwijc,ijcm->nhwcm", win, wts["depthwise_kernel"])
                        dw = dw.reshape(*dw.shape[:3], -1)
                        y = np.einsum("nhwc,co->nhwo", dw, wts["pointwise_kernel"][0, 0])
                    if c.get("use_bias"):
                        y = y + wts["bias"]
                    if c.get("activation") == "relu":
                        y = np.maximum(y, 0)
            elif kind == "BatchNormalization":
                wts = weights(c["name"])
                y = (x - wts["moving_mean"]) / np.sqrt(wts["moving_variance"] + c["epsilon"])
                y = y * wts["gamma"] + wts["beta"]
            elif kind == "Activation":
                if c["activation"] == "relu":
                    y = np.maximum(x, 0)
                else:
                    assert c["activation"] == "softmax"
                    e = np.exp(x - x.max(axis=-1, keepdims=True))
                    y = e / e.sum(axis=-1, keepdims=True)
            elif kind == "Add":
                y = ins[0] + ins[1]
            elif kind == "GlobalAveragePooling2D":
                y = x.mean(axis=(1, 2))
            else:
                raise AssertionError(kind)
            vals[c["name"]] = y
        return vals[cfg["config"]["layers"][-1]["config"]["name"]]


@pytest.fixture(scope="module")
def hdf5(models: ModelStore) -> Path:
    return models.path("emotion_model.hdf5")


def test_graph_is_valid(hdf5: Path) -> None:
    model = convert_keras_hdf5(hdf5)
    onnx.checker.check_model(model, full_check=True)
    ops = {n.op_type for n in model.graph.node}
    assert {"Conv", "BatchNormalization", "MaxPool", "Add", "GlobalAveragePool", "Softmax"} <= ops


def test_matches_numpy_forward(hdf5: Path, astronaut: npt.NDArray[np.uint8]) -> None:
    sess = ort.InferenceSession(convert_keras_hdf5(hdf5).SerializeToString())
    rng = np.random.default_rng(0)
    crops = [rng.uniform(-1, 1, (64, 64)), np.linspace(-1, 1, 64 * 64).reshape(64, 64)]
    # A real face too, so the test covers realistic activations.
    from facekit.local.engine import LocalEngine

    eng = LocalEngine(store=ModelStore(allow_fetch=False))
    (face,) = eng.detect(astronaut)
    real = EmotionModel.crops(astronaut, np.array([face.box]))[0].astype(np.float64)
    crops.append(real * 2 / 255 - 1)
    x = np.stack(crops)  # (N, 64, 64)
    got = sess.run(None, {"input": x[:, None].astype(np.float32)})[0]
    want = keras_forward(hdf5, x[..., None])
    assert got.shape == (3, 7)
    np.testing.assert_allclose(got, want, atol=2e-5)
    assert np.argmax(got[2]) == EMOTIONS.index("happy")  # she is smiling


def test_conversion_is_cached(hdf5: Path, tmp_path: Path) -> None:
    import shutil

    local = tmp_path / "emotion_model.hdf5"
    shutil.copy(hdf5, local)
    first = converted_model(local)
    cached = sorted(p.name for p in tmp_path.glob("*.onnx"))
    assert len(cached) == 1 and cached[0].startswith("emotion_model.")
    (tmp_path / cached[0]).write_bytes(first)  # reuse: same bytes come back, no reconversion
    assert converted_model(local) == first


def test_the_cached_conversion_is_named_by_the_converters_version() -> None:
    from facekit.local.emotion import CONVERSION_VERSION
    from facekit.local.keras_to_onnx import CONVERTER_VERSION

    assert CONVERSION_VERSION == CONVERTER_VERSION  # bump both together

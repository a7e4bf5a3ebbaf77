#!/usr/bin/env bash
# A separate virtualenv with dlib (prebuilt wheel `dlib-bin`), used only to make the reference
# descriptors in tests/local/data/dlib_reference.npz. Never a project dependency.
set -euo pipefail
VENV="${1:-/work/peer-venvs/dlib}"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet "dlib-bin==20.0.1.post1" numpy pillow
"$VENV/bin/python" -c "import dlib; print('dlib', dlib.__version__)"

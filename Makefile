# Everything sets itself up from nothing: the first target run creates .venv and installs into it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= outputs/demo
# Pinned: the development machines install it from a local cache. Without a GPU, the CPU build
# is 4.5 GB smaller: make install TORCH="torch --index-url https://download.pytorch.org/whl/cpu"
# (CI takes the CPU build of torch 2.13.0 that lies on its disk: .ci/run).
TORCH ?= torch==2.14.1

.PHONY: install demo test test-fast lint format bench results tables clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/wildmatte predict wildmatte/assets/example.jpg --mask wildmatte/assets/example_mask.png \
		-o $(DEMO_OUT)/alpha.png --cutout $(DEMO_OUT)/cutout.png --composite $(DEMO_OUT)/composite.png \
		--background '#2f6fdf'

test: $(STAMP)
	$(BIN)/python -m pytest

# Everything but the training runs marked slow (CI runs `make test`, all of them).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check wildmatte tests benchmarks scripts experiments
	$(BIN)/ruff format --check wildmatte tests benchmarks scripts experiments

format: $(STAMP)
	$(BIN)/ruff format wildmatte tests benchmarks scripts experiments
	$(BIN)/ruff check --fix wildmatte tests benchmarks scripts experiments

# Latency and peak memory of every engine at 512², 1024², 2048² (CPU; add BENCH_ARGS="--device cuda").
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/wildmatte bench speed $(BENCH_ARGS)

clean:
	rm -rf $(VENV) outputs

# docs/RESULTS.md: Composition-Wild from the validation split, peers, every PRN weight file, speed.
# Extra options: make results RESULTS_ARGS="--weights mine=runs/x/model.safetensors"
RESULTS_ARGS ?=
results: $(STAMP)
	$(BIN)/python benchmarks/results.py $(RESULTS_ARGS)

# The results tables of README.md, the model card and docs/RESULTS.md, from the committed
# results files (docs/results/*.json); tests/test_doc_tables.py fails when they differ.
tables: $(STAMP)
	$(BIN)/python benchmarks/tables.py

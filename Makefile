# One entry point for people and CI. `make chat` and `make test` each set up what they need first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1

.PHONY: setup chat test browser lint bench index clean

setup: $(VENV)/.installed

# torch first: its 2.13.0 CPU wheel keeps pip from choosing a multi-GB CUDA build for sentence-transformers.
$(VENV)/.installed: pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

chat: setup
	$(BIN)/python app.py

# Headless Chromium for the browser tests, from Debian (never `playwright install`), and axe-core for their
# accessibility checks, from npm into the git-ignored .cache/npm (tests/test_browser.py injects axe.min.js).
AXE := .cache/npm/node_modules/axe-core/axe.min.js

browser: $(AXE)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium' for the browser tests"; fi; }

$(AXE):
	@if command -v npm >/dev/null 2>&1; then npm install --silent --no-audit --no-fund --prefix .cache/npm axe-core@4; \
	else echo "npm is missing: the browser tests cannot run their accessibility checks (axe-core)"; fi

test: setup browser
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check bot tests bench app.py
	$(BIN)/ruff format --check bot tests bench app.py

index: setup
	$(BIN)/rolebot index --rebuild

# Figures for the README and issue notes: answer latency/accuracy vs a naive baseline, CLI cold start, web load.
bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/coldstart.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis artifacts .cache

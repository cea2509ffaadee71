# Glowdesk: the two set-up commands are `make run` and `make test`; both create .venv when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
AXE_CORE := axe-core@4.14.1
export QT_QPA_PLATFORM ?= $(if $(DISPLAY)$(WAYLAND_DISPLAY),,offscreen)

.PHONY: run test lint bench screenshots package clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Glowdesk needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# axe-core (accessibility checks of the web pages in headless Chromium), from the npm registry
	@if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(VENV)/npm $(AXE_CORE); \
	  else echo "npm not found: the web pages' accessibility tests will be skipped"; fi
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/run_demo.py

test: $(STAMP)
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check core || true
	$(BIN)/mypy core app/services app/repositories app/sync sync_server
	$(BIN)/lint-imports

bench: $(STAMP)
	@for b in bench/bench_*.py; do QT_QPA_PLATFORM=offscreen $(BIN)/python $$b || echo "$$b: target missed or failed (exit $$?)"; done

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m app.ui.screenshots docs/screenshots

package: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[package]'
	$(BIN)/pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/glowdesk.spec

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache

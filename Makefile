# pimc: `make demo` sets up and runs the compiler on its built-in default; `make test` runs
# the lint and the test suite. Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
JOBS ?= 2

.PHONY: setup demo test lint clean browser

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev,model,search]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/pimc demo -o demo-out

lint: setup
	$(VENV)/bin/ruff check .

# The report's browser test (tests/report) needs Debian's chromium; installed once, as root.
# Without root or network the install is skipped and that test says why it skips.
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium could not be installed; the browser test will skip"

test: lint browser
	$(PY) -m pytest -n $(JOBS)

clean:
	rm -rf $(VENV) demo-out .pytest_cache .ruff_cache

# Mutation testing of the compiler's core (bench/mutation_configs, cosmic-ray, one worker; about
# an hour on 2 cores). Not part of `test`. Sessions in mutation-out/; docs/mutation.md.
.PHONY: mutation
mutation: setup
	$(PY) bench/mutation.py run

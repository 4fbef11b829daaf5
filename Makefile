# Everything sets itself up: a .venv at the repo root, from the package registry only.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test demo bench bench-tasks bench-echo mutation generate check clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("coopkit needs Python 3.10 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 10) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[nbgrader,dev]'
	@touch $(STAMP)

## test: every kit test (generated files, reference, corpus, sandbox, CLI, nbgrader round trip, formgrader in Chromium)
# Three workers even on two cores: much of the run waits on timeouts, kernels and installs, not on the CPU.
# The heaviest files start first (their heavy(seconds) marker); the full mutation run is `make mutation`.
test: venv
	$(PY) -m pytest kit_tests -q -p no:cacheprovider -o timeout=900 --ignore=kit_tests/corpus -n 3 --dist loadfile

## demo: grade the sample submissions, then the same through nbgrader, and print the tables
demo: venv
	$(VENV)/bin/coopkit grade-class grading/samples --out build/demo -j 2
	$(PY) scripts/nbgrader_demo.py build/nbgrader-demo

## generate: rebuild stubs, public tests and tables from solutions/, grading/ and manifest.toml
generate: venv
	$(VENV)/bin/coopkit dev generate

## check: the author's check (stubs fail, solutions pass, generated files current)
check: venv
	$(VENV)/bin/coopkit dev check

## bench: speed figures for the README
bench: venv
	$(PY) benchmarks/bench_grader.py
	$(PY) benchmarks/bench_nbgrader.py

bench-tasks: venv
	$(PY) benchmarks/bench_tasks.py

bench-echo: venv
	$(PY) benchmarks/bench_echo.py

## mutation: mutmut over solutions/ with the hidden suites
mutation: venv
	$(PY) benchmarks/mutation.py

clean:
	rm -rf $(VENV) build mutants

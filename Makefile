# neurobias: `make demo` and `make test` work on a fresh machine with Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# one stamp per set of extras: base (make demo, make reproduce), dev (make test, make bench), docs, notebooks
BASE   := $(VENV)/.installed-base
STAMP  := $(VENV)/.installed-dev
DOCS_STAMP := $(VENV)/.installed-docs
LAB_STAMP  := $(VENV)/.installed-notebooks

.PHONY: install demo test test-oldest docs lab bench bench-large reproduce clean help

help:
	@echo "make demo   - create .venv with the base dependencies only, train the demo, find its fixed points and limit cycles, continue the fixed points, compare contexts, write runs/demo/report.html"
	@echo "make test   - install the development extras into .venv, run the test suite"
	@echo "make test-oldest - a separate .venv-oldest with the lowest versions pyproject.toml allows; a fast subset of the tests"
	@echo "make docs   - build the documentation site (notebooks executed) into docs/_build/html"
	@echo "make lab    - start JupyterLab on notebooks/ with the project's environment"
	@echo "make bench  - run the benchmarks that take minutes (docs/performance.md)"
	@echo "make bench-large - the commands behind docs/performance.md's tables at 256 to 4096 units (over an hour)"
	@echo "make reproduce [QUICK=1] - reproduce Williams et al. 2024 (docs/results.md); QUICK=1 at small size"
	@echo "make clean  - remove .venv, .venv-oldest, runs/ and the built documentation"

install: $(STAMP)

# torch==2.13.0 first: it is the CPU build; any other order pulls a multi-GB CUDA build.
$(VENV)/.torch:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	touch $@

$(BASE): pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# an extra set (dev, docs, notebooks) installs the base dependencies too, so its stamp renews the base stamp
$(VENV)/.installed-%: pyproject.toml $(VENV)/.torch
	$(BIN)/python -m pip install --quiet -e '.[$*]'
	touch $@ $(BASE)

DEMO ?= runs/demo
# extra arguments of the demo's steps (the README test makes the demo tiny with them)
DEMO_ARGS ?=
FP_ARGS ?= --candidates 128
CONT_ARGS ?=

demo: $(BASE)
	$(BIN)/neurobias run models/demo.toml --out $(DEMO) --overwrite $(DEMO_ARGS)
	$(BIN)/neurobias fixed-points $(DEMO) $(FP_ARGS)
	$(BIN)/neurobias periodic-orbits $(DEMO)
	$(BIN)/neurobias continue $(DEMO) --from sine_1Hz --to sine_3Hz --no-orbits $(CONT_ARGS)
	$(BIN)/neurobias compare-contexts $(DEMO)
	$(BIN)/neurobias report $(DEMO)

test: $(STAMP)
	$(BIN)/python -m pytest

# the lowest versions pyproject.toml allows (.ci/lowest_constraints.py), then the fast tests that cover
# every dependency: files, circuit and training (numpy, scipy, torch, xarray, h5netcdf), recordings (pynwb,
# scikit-learn, h5py), data sets (mnist1d, pooch), sweeps (dask), figures (matplotlib)
OLDEST := .venv-oldest
OLDEST_TESTS ?= tests/test_io.py tests/test_circuit.py tests/test_training.py tests/test_recordings.py \
	tests/test_datasets.py tests/test_data_fetch.py tests/test_sweep_dask.py tests/test_plotting.py tests/test_config.py
test-oldest:
	rm -rf $(OLDEST)
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet torch==2.13.0
	$(OLDEST)/bin/python .ci/lowest_constraints.py dev > $(OLDEST)/lowest.txt
	$(OLDEST)/bin/python -m pip install --quiet -c $(OLDEST)/lowest.txt -e '.[dev]'
	$(OLDEST)/bin/python -m pip list --format=freeze > $(OLDEST)/installed.txt
	$(OLDEST)/bin/python -m pytest -q -p no:cacheprovider $(OLDEST_TESTS)

docs: $(DOCS_STAMP)
	rm -rf docs/_build
	$(BIN)/python -m sphinx -b html -W --keep-going -E docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"

# (as root, in a container, JupyterLab needs --allow-root)
lab: $(LAB_STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: $(STAMP)
	$(BIN)/python benchmarks/fixed_points.py --repeats 3 --sizes 64 256 --scaling-cores 3 4 6 --circuit chain \
	  --solvers dense
	$(BIN)/python benchmarks/brainpy_fixed_points.py --quick
	$(BIN)/python benchmarks/simulation.py --sizes 512 2048 --batches 64 --repeats 5
	@for b in engine_choice training sweep context_fit; do \
	  if [ -f benchmarks/$$b.py ]; then $(BIN)/python benchmarks/$$b.py || exit 1; fi; done

# the commands named in docs/performance.md's sections at the sizes people train (over an hour on 2 cores)
bench-large: $(STAMP)
	$(BIN)/python benchmarks/fixed_points.py --sizes 256 512 1024 2048 4096 --scaling-cores --trained 1024 2048 \
	  --dense-max-units 1024 --results benchmarks/results/fixed_points_large.json \
	  --figure docs/img/bench_fixed_points_large.png --section
	$(BIN)/python benchmarks/continuation.py --sizes 256 512 1024 2048 --trained 2048 --dense-max-units 512
	$(BIN)/python benchmarks/periodic_orbits.py --sizes 256 --repeats 1

reproduce: $(BASE)
	$(BIN)/neurobias reproduce $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) $(OLDEST) runs docs/_build docs/api docs/api.rst docs/notebooks

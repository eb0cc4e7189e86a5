# neurobias: `make demo` and `make test` work on a fresh machine with Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench reproduce clean help

help:
	@echo "make demo   - create .venv, install, train the demo, find its fixed points, continue them, compare contexts, write runs/demo/report.html"
	@echo "make test   - create .venv, install, run the test suite"
	@echo "make bench  - run the benchmarks (docs/performance.md)"
	@echo "make reproduce [QUICK=1] - reproduce Williams et al. 2024 (docs/results.md); QUICK=1 at small size"
	@echo "make clean  - remove .venv and runs/"

install: $(STAMP)

# torch==2.13.0 first: it is the CPU build; any other order pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

DEMO ?= runs/demo
# extra arguments of the demo's steps (the README test makes the demo tiny with them)
DEMO_ARGS ?=
FP_ARGS ?= --candidates 128
CONT_ARGS ?=

demo: $(STAMP)
	$(BIN)/neurobias run models/demo.toml --out $(DEMO) $(DEMO_ARGS)
	$(BIN)/neurobias fixed-points $(DEMO) $(FP_ARGS)
	$(BIN)/neurobias continue $(DEMO) --from sine_1Hz --to sine_3Hz $(CONT_ARGS)
	$(BIN)/neurobias compare-contexts $(DEMO)
	$(BIN)/neurobias report $(DEMO)

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/fixed_points.py --repeats 3 --sizes 64 256 --scaling-cores 3 4 6
	$(BIN)/python benchmarks/brainpy_fixed_points.py --quick
	@for b in simulation training sweep; do \
	  if [ -f benchmarks/$$b.py ]; then $(BIN)/python benchmarks/$$b.py || exit 1; fi; done

reproduce: $(STAMP)
	$(BIN)/neurobias reproduce $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) runs

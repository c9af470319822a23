# Both targets set themselves up on a fresh machine: a .venv with lamina installed
# editable together with its dev extra, torch pinned by constraints.txt.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export KERAS_BACKEND := torch

.PHONY: demo test test-cuda bench lint clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m lamina.cli demo

test: $(STAMP)
	$(PY) -m ruff check lamina tests bench
	$(PY) -m pytest -q -n 2 --dist loadfile

# the layer oracle suite with lamina's weights on the GPU (needs a CUDA device)
test-cuda: $(STAMP)
	LAMINA_TEST_DEVICE=cuda $(PY) -m pytest -q -m cuda

bench: $(STAMP)
	$(PY) bench/run.py

lint: $(STAMP)
	$(PY) -m ruff check lamina tests bench

clean:
	rm -rf $(VENV) build *.egg-info

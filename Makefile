# mmassets: `make run` builds the whole graph on the sample profile; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= data
HOST ?= 127.0.0.1
PORT ?= 3000
export HF_HUB_OFFLINE ?= 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1

.PHONY: install run ui test clean

# (setuptools warns on every editable install that a folder named like the package may shadow it: not for a user)
$(BIN)/mmassets: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install --quiet -e '.[dev,ct2,postgres,celery,k8s,s3]' 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import mmassets, torch, dagster" && touch $@

install: $(BIN)/mmassets

run: install
	$(BIN)/mmassets build --profile sample --data-dir $(DATA_DIR)

ui: install
	$(BIN)/mmassets ui --profile sample --data-dir $(DATA_DIR) --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(DATA_DIR)

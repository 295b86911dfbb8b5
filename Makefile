# Two commands set up a fresh machine: `make chat` (talk to the bot) and `make test` (every test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: chat test install bench clean

chat: $(STAMP)
	$(BIN)/wegwijs chat $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -rs $(ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[rasa,test]"
	touch $(STAMP)

bench: $(STAMP)
	$(BIN)/python bench/conversation_bench.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache wegwijs.db wegwijs.db-wal wegwijs.db-shm

# The two commands a person needs: `make run` (the whole system on its embedded defaults) and `make test`.
# Both set up what they need first: a Python 3.10 virtual environment in .venv with pinned packages.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements/runtime.txt requirements/dev.txt requirements/constraints.txt

# Sandbox defaults for the Meta credentials, shared by the gateway and the sandbox; values already in the
# environment win, so the same commands talk to a real number when they are set.
export WHATSAPP_APP_SECRET ?= sandbox-app-secret
export WHATSAPP_VERIFY_TOKEN ?= sandbox-verify-token
export WHATSAPP_ACCESS_TOKEN ?= sandbox-access-token
export SANDBOX_PORT ?= 8008
export WHATSAPP_API_URL ?= http://localhost:$(SANDBOX_PORT)
# Two API tokens for trying the agents' console and the automations API on the sandbox; set your own
# (better as sha256: digests) for a real number.
export GATEWAY_API_TOKENS ?= frontdesk:agent:*:sandbox-agent-token,automations:automation:*:sandbox-automation-token

# Rasa's HTTP API (trackers, trigger_intent, the model) answers only with this token, and the action server
# only with its own; every server listens on 127.0.0.1. Set your own long random values anywhere but here.
export RASA_API_TOKEN ?= sandbox-rasa-token
export ACTION_SERVER_TOKEN ?= sandbox-actions-token
export RASA_PORT ?= 5005
export ACTION_SERVER_PORT ?= 5055

# Where `rasa run` finds the action server, keeps its conversations and locks them (endpoints.yml reads
# these): the Procfile's action server, a SQLite file under var/ and locks in memory by default.
export ACTION_ENDPOINT_URL ?= http://localhost:$(ACTION_SERVER_PORT)/webhook
export TRACKER_STORE_DIALECT ?= sqlite
export TRACKER_STORE_URL ?= sqlite:///$(CURDIR)/var/tracker.db
export LOCK_STORE_URL ?= memory://

# Nothing leaves the machine: no Rasa telemetry, and TensorFlow keeps its start-up chatter to itself.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL ?= 2

# The trained assistant: retrained when its domain, pipeline or training data change, never at run time.
MODEL := models/hotel.tar.gz
ASSISTANT := domain.yml config.yml $(shell find data -name '*.yml' 2>/dev/null)

.PHONY: help install train evaluate run cluster test lint format bench lock clean

help:
	@echo "make run    set up, then start every process (Ctrl-C stops them all)"
	@echo "make cluster  nginx in front of several Rasa replicas on PostgreSQL and Redis (see the README)"
	@echo "make test   set up, then run the whole test suite"
	@echo "make train  train the assistant into $(MODEL) if its data changed"
	@echo "make lint   ruff check and ruff format --check"
	@echo "make evaluate  intent (overall and per intent) and booking code F1, and several questions in a message, on held-out messages"
	@echo "make bench  run the benchmarks and print their figures"

install: $(STAMP)

$(STAMP): $(REQUIREMENTS)
	@python="$$(scripts/find-python.sh)" || exit 1; \
	if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	  echo "==> Creating $(VENV) with $$python"; rm -rf $(VENV); "$$python" -m venv $(VENV) || exit 1; \
	fi
	@echo "==> Installing pinned packages into $(VENV) (Rasa and TensorFlow: a few minutes the first time)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==24.3.1 wheel==0.45.1
	@$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off \
	  -r requirements/dev.txt -c requirements/constraints.txt \
	  | grep -E '^(Collecting|Successfully|ERROR)' | sed -e 's/^Collecting /  downloading /' || true
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; exit 1; }
	@touch $(STAMP)
	@echo "==> $(VENV) is ready"

train: $(MODEL)

# Rasa's training cache (.rasa/) makes a retrain after a small change faster than the first one.
$(MODEL): $(STAMP) $(ASSISTANT)
	@echo "==> Training the assistant (data changed)"
	@$(BIN)/rasa train --fixed-model-name hotel --out models --quiet
	@touch $(MODEL)

# Intent F1 and booking code F1 on tests/nlu_holdout.yml, messages the model never saw in training.
evaluate: $(STAMP) $(MODEL)
	@$(BIN)/python -m benchmarks.assistant_nlu --quality

run: $(STAMP) $(MODEL)
	@mkdir -p var
	@echo ""
	@echo "  Guest phone (play a guest):  http://localhost:$(SANDBOX_PORT)/"
	@echo "  Cloud API sandbox:           http://localhost:$(SANDBOX_PORT)/v23.0/<phone_number_id>/messages"
	@echo "  Agents' console:             http://localhost:$(RASA_PORT)/webhooks/whatsapp/console/"
	@echo "  Rasa server and channel:     http://localhost:$(RASA_PORT) (its API wants ?token=$$RASA_API_TOKEN)"
	@echo "  Action server:               http://localhost:$(ACTION_SERVER_PORT) (the Rasa server's calls only)"
	@echo "  Ctrl-C stops everything."
	@echo ""
	@SANDBOX_WEBHOOK_URL="$${SANDBOX_WEBHOOK_URL:-http://localhost:$(RASA_PORT)/webhooks/whatsapp/webhook}" \
	  $(BIN)/honcho start -f Procfile

# The production shape on one machine: it names what is missing (PostgreSQL, Redis, nginx) and stops when the
# single-machine defaults would let replicas answer a guest twice.
cluster: $(STAMP) $(MODEL)
	@$(BIN)/python -m deploy.cluster

test: $(STAMP) $(MODEL)
	@$(BIN)/python -m pytest

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

format: $(STAMP)
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

bench: $(STAMP)
	@$(BIN)/python -m benchmarks

lock: $(STAMP)
	@{ echo "# Every package of the environment, pinned: regenerate with 'make lock' after changing runtime.txt or dev.txt."; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > requirements/constraints.txt
	@echo "==> requirements/constraints.txt rewritten"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

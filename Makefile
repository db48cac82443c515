# Nagar Sahayak: the one entry point people and CI share.
#   make run    chat with the assistant in the terminal (embedded defaults, no external service)
#   make test   everything CI checks
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV     := .venv
BIN      := $(VENV)/bin
PY       := $(BIN)/python
RASA     := $(BIN)/rasa
MODEL    := models/nagar-sahayak.tar.gz
RESULTS  := results
ACTIONS_PORT ?= 5055
# Rasa and TensorFlow are chatty; keep the logs readable.
export TF_CPP_MIN_LOG_LEVEL ?= 3
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
export PYTHONHASHSEED ?= 0
export PYTHONPATH := $(CURDIR)

# What each complaint category of city.yml needs in the domain and the rules
# (scripts/generate_categories.py), committed; remade whenever city.yml changes.
CATEGORY_FILES := domain/categories.yml data/rules/categories.yml domain/city_facts.yml
CITY_FILE := $(or $(CITY_CONFIG),city.yml)
# Training data generated from seed lists and the hand-written data (scripts/generate_nlu.py),
# committed; remade whenever its inputs change.
GENERATED := $(addprefix data/nlu/generated/,spelling_variants.yml complaints.yml phrases.yml out_of_scope.yml)
GENERATOR_INPUTS := scripts/generate_nlu.py data/seeds/nlu_seeds.yml $(wildcard data/nlu/*.yml domain/*.yml) \
  $(shell find tests/nlu tests/nlu_unseen tests/nlu_fresh tests/nlu_other_domain -name '*.yml' 2>/dev/null)
TRAINING_INPUTS := config.yml $(CITY_FILE) $(CATEGORY_FILES) $(GENERATED) $(shell find domain data nlu_components -type f \( -name '*.yml' -o -name '*.py' \) 2>/dev/null)

.PHONY: help venv categories nlu-data train run actions validate test test-unit mutate test-nlu test-stories test-conversations test-scale crossval lint bench export-misunderstood simulate clean

help:
	@echo "make run       train if needed, start the action server, chat in the terminal"
	@echo "make test      validate data, unit tests, held-out NLU test, conversation stories"
	@echo "make train     train the model into $(MODEL)"
	@echo "make validate  rasa data validate (strict)"
	@echo "make crossval  5-fold NLU cross-validation, report in $(RESULTS)/crossval"
	@echo "make categories  regenerate domain/categories.yml, domain/city_facts.yml and data/rules/categories.yml from city.yml"
	@echo "make nlu-data  regenerate data/nlu/generated from data/seeds/nlu_seeds.yml and data/nlu"
	@echo "make lint      ruff, and mypy on civic/ and channels/"
	@echo "make bench     benchmarks (numbers in README / docs/benchmarks.md)"
	@echo "make mutate    mutation testing of the core (mutmut), scores in results/mutate"
	@echo "make simulate  WhatsApp simulator: fake Graph API + signed webhooks to a local Rasa"
	@echo "make export-misunderstood  messages the bot did not understand, ready to annotate"

# --- set-up ---------------------------------------------------------------------------
$(BIN)/activate: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@scripts/ensure_python.sh
	@test -x $(PY) || $$(scripts/ensure_python.sh --print) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==24.0"
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt  # includes requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .  # nagar-admin
	@touch $(BIN)/activate

venv: $(BIN)/activate

# --- model ----------------------------------------------------------------------------
$(CATEGORY_FILES) &: $(BIN)/activate $(CITY_FILE) scripts/generate_categories.py
	$(PY) scripts/generate_categories.py
	@touch $(CATEGORY_FILES)

categories: $(CATEGORY_FILES)

$(GENERATED) &: $(BIN)/activate $(CATEGORY_FILES) $(GENERATOR_INPUTS)
	$(PY) scripts/generate_nlu.py

nlu-data: $(GENERATED)

# Trains only when no model is newer than the data, config and components.
$(MODEL): $(BIN)/activate $(TRAINING_INPUTS)
	$(RASA) train --domain domain --fixed-model-name nagar-sahayak --out models
	@touch $(MODEL)

train: $(MODEL)

# --- run ------------------------------------------------------------------------------
actions: venv
	$(RASA) run actions --port $(ACTIONS_PORT)

run: $(MODEL)
	@scripts/run_local.sh $(MODEL) $(ACTIONS_PORT)

# --- checks ---------------------------------------------------------------------------
validate: venv $(CATEGORY_FILES)
	$(PY) scripts/validate_data.py

lint: venv
	$(BIN)/ruff check civic actions channels nlu_components officer rasa_extensions scripts tests
	$(BIN)/mypy  # civic/ and channels/, settings in pyproject.toml

test-unit: venv
	$(BIN)/pytest -q -p no:warnings --ignore=tests/conversations --ignore=tests/scale

# Whole conversations: the trained model, a real action server process, a real database.
test-conversations: $(MODEL)
	NAGAR_MODEL=$(MODEL) $(BIN)/pytest -q -p no:warnings tests/conversations

# Two Rasa replicas behind a round-robin proxy, injected faults (needs Redis and PostgreSQL).
test-scale: $(MODEL)
	NAGAR_MODEL=$(MODEL) $(BIN)/pytest -q -p no:warnings tests/scale

# Tuning set tests/nlu, frozen unseen set tests/nlu_unseen, other-domain set (docs/nlu.md).
# The script's defaults are the goals (unseen 0.96, 0.94 per script; other-domain 2 %); the bars
# here are what the model now supports, a little under it, so that a change cannot make it
# worse unnoticed (measured 2026-12-07 after issue #14's data: unseen 0.971, Devanagari 0.965,
# Latin 0.973; other-domain 1.4 %).
# tests/nlu_fresh: written after issue #14's data by a helper never shown the training data or the
# other sets, never tuned on (measured 2026-12-07 on the last model: 0.962, Devanagari 0.980, Latin 0.952).
test-nlu: $(MODEL)
	$(PY) scripts/nlu_heldout.py --model $(MODEL) --data tests/nlu --unseen tests/nlu_unseen \
	  --other-domain tests/nlu_other_domain --out $(RESULTS)/heldout --max-other-domain-civic 0.02 \
	  --unseen-min-accuracy 0.965 --min-script-accuracy 0.955
	$(PY) scripts/nlu_heldout.py --model $(MODEL) --data tests/nlu --unseen tests/nlu_fresh \
	  --other-domain tests/nlu_other_domain --out $(RESULTS)/heldout_fresh --max-other-domain-civic 0.02 \
	  --unseen-min-accuracy 0.955 --min-script-accuracy 0.945 --show 0

test-stories: $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/stories --out $(RESULTS)/stories \
	  --e2e --fail-on-prediction-errors

test: validate lint test-unit test-nlu test-stories test-conversations test-scale
	@echo "make test: all checks passed"

# Mutation testing of the core, each module with its own tests (docs/testing.md); not part of
# `make test`. Scores and surviving mutants in results/mutate/.
mutate: venv
	$(PY) scripts/mutate.py  # each mutmut run under nice -n 10

# Folds over the hand-written data; generated data remade from each training fold only.
crossval: venv
	$(PY) scripts/crossval.py --config config.yml --out $(RESULTS)/crossval
	$(PY) scripts/nlu_report.py $(RESULTS)/crossval

# the local PostgreSQL of the tests (a fresh schema per run; skipped when unreachable)
BENCH_POSTGRES_URL ?= $(or $(TEST_POSTGRES_URL),postgresql://postgres@127.0.0.1:5432/test)

bench: $(MODEL)
	$(PY) scripts/bench_text.py
	$(PY) scripts/bench_nlu.py --model $(MODEL)
	$(PY) scripts/bench_load.py --users 20 --turns 21 --json $(RESULTS)/bench/bench_load.json
	$(PY) scripts/bench_webhook.py --start --model $(MODEL) --json $(RESULTS)/bench/bench_webhook_nlu_process.json
	$(PY) scripts/bench_webhook.py --start --receiver --rounds 2 --model $(MODEL) --json $(RESULTS)/bench/bench_webhook_receiver.json
	$(PY) scripts/bench_webhook.py --start --receiver --rounds 2 --model $(MODEL) --inbox-url $(BENCH_POSTGRES_URL) --json $(RESULTS)/bench/bench_webhook_receiver_postgresql.json
	# the acknowledgement goal (p99 <= 50 ms under load): posts arriving at 25 a second while Rasa works through them
	$(PY) scripts/bench_webhook.py --start --receiver --rounds 2 --rate 25 --model $(MODEL) --json $(RESULTS)/bench/bench_webhook_receiver_rate25.json
	$(PY) scripts/bench_webhook.py --start --receiver --rounds 2 --rate 25 --model $(MODEL) --inbox-url $(BENCH_POSTGRES_URL) --json $(RESULTS)/bench/bench_webhook_receiver_rate25_postgresql.json

export-misunderstood: venv
	$(PY) scripts/export_misunderstood.py --out $(RESULTS)/misunderstood.yml

# Several at once: make simulate ACTIONS_PORT=6055 SIMULATE_ARGS="--rasa-url http://localhost:6005/webhooks/whatsapp/webhook --graph-port 6765"
simulate: $(MODEL)
	@scripts/with_action_server.sh $(ACTIONS_PORT) \
	  $(PY) scripts/whatsapp_simulator.py --start-rasa --model $(MODEL) $(SIMULATE_ARGS)

clean:
	rm -rf $(RESULTS) models/*.tar.gz .pytest_cache

# The two commands: `make demo` and `make test`. Both build .venv on first use (so does
# `make agents-demo`, the LangGraph example).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
COMPOSE := docker compose -f collector-config/docker-compose.yml

.PHONY: demo agents-demo test lint docs bench bench-peers up down clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,test,dev,docs]'
	touch $(STAMP)

# With the local stack up (`make up`: the Collector's health check answers on :13133) and
# no endpoint set, the demo exports OTLP to it as well.
demo: $(STAMP)
	@if [ -z "$$OTEL_EXPORTER_OTLP_ENDPOINT" ] && $(BIN)/python -c "import socket, sys; \
	    sys.exit(socket.socket().connect_ex(('127.0.0.1', 13133)))" 2>/dev/null; then \
	  echo "Collector found on localhost: exporting OTLP to http://localhost:4318"; \
	  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 $(BIN)/python -m examples.support_assistant; \
	else \
	  $(BIN)/python -m examples.support_assistant; \
	fi

# The LangGraph research agent, instrumented by agentotel.init() alone (same exporter
# defaults as the demo; the Collector is used the same way when it is up).
agents-demo: $(STAMP)
	@if [ -z "$$OTEL_EXPORTER_OTLP_ENDPOINT" ] && $(BIN)/python -c "import socket, sys; \
	    sys.exit(socket.socket().connect_ex(('127.0.0.1', 13133)))" 2>/dev/null; then \
	  echo "Collector found on localhost: exporting OTLP to http://localhost:4318"; \
	  OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 $(BIN)/python -m examples.research_agent; \
	else \
	  $(BIN)/python -m examples.research_agent; \
	fi

test: lint docs
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check agentotel tests examples benchmarks docs
	$(BIN)/mypy
	$(BIN)/lint-imports

# The documentation site (docs/, mkdocs.yml) into site/; --strict: a broken link, a missing
# reference or a docstring the renderer cannot parse fails the build. Offline.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Per-call overhead through agentotel.init() with its defaults, against hand-written
# OpenTelemetry (the init() ratios first); run alone, it uses both cores.
bench: $(STAMP)
	$(BIN)/python benchmarks/overhead.py

# The same calls through agentotel and its peers (opentelemetry-util-genai, traceloop-sdk,
# logfire), each in an environment of its own under benchmarks/.peers/ (made on first run):
# the Markdown table lands in benchmarks/results/peers.md.
bench-peers: $(STAMP)
	$(BIN)/python benchmarks/peers.py --out benchmarks/results/peers.md

up:
	$(COMPOSE) up -d

down:
	$(COMPOSE) down

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site

# The two set-up commands: `make run` and `make test`. Everything else is a helper of theirs.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ascend_portal
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test venv messages check bench chaos clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)."; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

run: venv
	@[ -x /usr/sbin/sshd ] || { if [ "$$(id -u)" = 0 ]; then echo "Installing openssh-server for the simulated Ascend host..."; \
		apt-get install -y -qq openssh-server >/dev/null || true; \
		else echo "No sshd here: the simulated Ascend host stays off. Install it with: sudo apt-get install openssh-server"; fi; }
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo
	DEBUG=$${DEBUG:-true} $(PY) manage.py rundev

test: venv
	bash tests/ensure_services.sh
	DEBUG=true $(VENV)/bin/lint-imports --no-cache
	DEBUG=true AXES_ENABLED=false DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) -m pytest --create-db $(PYTEST_ARGS)

# Migrations generated and committed, ruff clean, the layers contract kept (import-linter).
check: venv
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	DEBUG=true $(PY) manage.py check
	$(VENV)/bin/ruff check .
	DEBUG=true $(VENV)/bin/lint-imports --no-cache

messages: venv
	DEBUG=true $(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var
	DEBUG=true $(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

# Each script on a database of its own, never the development or the test database.
bench: venv
	bash tests/ensure_services.sh
	DEBUG=true DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ascend_bench} $(PY) bench/bench_pages.py
	$(PY) bench/bench_scanner.py
	$(PY) bench/bench_tuning_parsers.py
	DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/ascend_bench_tuning $(PY) bench/bench_tuning_import.py
	DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/ascend_bench_acceptance $(PY) bench/bench_acceptance.py
	DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/ascend_bench_quotes $(PY) bench/bench_quotes.py
	$(PY) bench/load.py --database-url postgres://postgres@127.0.0.1:5432/ascend_bench_load
	@if [ "$$(id -u)" = 0 ]; then DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/ascend_bench_jobs \
		CELERY_BROKER_URL=redis://127.0.0.1:6379/14 $(PY) bench/bench_jobs.py; \
	else echo "bench_jobs.py needs root (it runs the simulated host's sshd as its login user): skipped"; fi

# Faults under load, on services of its own (a PostgreSQL cluster and a Redis on spare ports, two
# simulated hosts, two workers and beat): never the ones on 5432 and 6379. Root only (sshd's login
# user, the postgres system user). CHAOS_MINUTES (default 10) bounds the faults.
chaos: venv
	@[ "$$(id -u)" = 0 ] || { echo "bench/chaos.py needs root (the simulated hosts' sshd and its own PostgreSQL cluster)."; exit 1; }
	DEBUG=true $(PY) bench/chaos.py --minutes $${CHAOS_MINUTES:-10}

clean:
	rm -rf var/celery var/staticfiles .pytest_cache

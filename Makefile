# vessel-curate: every target creates what it needs; `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CURATE := $(BIN)/curate
# The stamp is rebuilt when the dependencies change, so `make install` is instant otherwise.
STAMP  := $(VENV)/.installed-stamp
# Debian's Chromium drives the browser tests (Playwright cannot download its own browser here).
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser test test-slow lint format demo scrape curate review train model \
        bench bench-download bench-crop bench-detect bench-dedupe bench-train bench-review bench-scale

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,scale]'
	touch $(STAMP)

browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && \
	  $(SUDO) apt-get install -y -q --no-install-recommends chromium; }

test: install browser
	$(BIN)/python -m pytest -q

test-slow: install browser
	$(BIN)/python -m pytest -q -m slow

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The whole pipeline on the bundled fake museum, offline; everything lands in data/demo/.
demo: install
	$(BIN)/python tests/demo.py

# --- the real thing: sources.yaml → data/ ---
scrape: install
	$(CURATE) scrape

curate: install
	$(CURATE) run

review: install
	$(CURATE) review --open

train: install
	$(CURATE) train

# Rebuild the tiny test detector (tests/detector/tiny-vessels.pt) from generated scenes.
model: install
	$(BIN)/python tests/detector/build_model.py

# --- benchmarks: ratios against a baseline measured in the same run; results in bench/results/ ---
bench: bench-download bench-crop bench-detect bench-dedupe bench-train bench-review bench-scale

bench-download: install
	test -x bench/.venv-img2dataset/bin/img2dataset || { $(PYTHON) -m venv bench/.venv-img2dataset && \
	  bench/.venv-img2dataset/bin/pip install --quiet img2dataset==1.47.0; }
	$(BIN)/python bench/download.py --n 2000 --rss-n 20000

bench-crop: install
	@command -v convert-im6.q16 >/dev/null || command -v magick >/dev/null || { $(SUDO) apt-get update -q && \
	  $(SUDO) apt-get install -y -q --no-install-recommends imagemagick; }
	$(BIN)/python bench/crop.py

bench-detect: install
	$(BIN)/python bench/detect.py

# imagededup pins its own stack, so this benchmark runs in a venv of its own.
bench-dedupe: install
	test -x bench/.venv-imagededup/bin/python || { $(PYTHON) -m venv bench/.venv-imagededup && \
	  bench/.venv-imagededup/bin/pip install --quiet imagededup scikit-image imagehash scipy numba pyyaml pydantic click tqdm; }
	PYTHONPATH=$(CURDIR) bench/.venv-imagededup/bin/python bench/dedupe.py

bench-train: install
	$(BIN)/python bench/train.py

bench-review: install browser
	$(BIN)/python bench/review.py

# Local engine vs Ray engine on this machine, and an estimate for 1M images on N GPU nodes.
bench-scale: install
	$(BIN)/python bench/scale.py

# Two entry points for a fresh machine (see README.md):
#   make all   build the SIGNS data, release the assignments, build the book, grade the demo submissions
#   make test  lint, then the whole test suite (builds what the tests read first)
#   make check lint and the fast tier, for everyday work
# Each creates the virtual environment .venv when it is missing or older than pyproject.toml.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: all test check lint venv data release references book demo clean

all: data release book demo

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

venv: $(STAMP)

data: $(STAMP)
	$(BIN)/autograder data build

release: $(STAMP)
	$(BIN)/autograder release

references: $(STAMP) data
	$(BIN)/autograder reference build

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going

# Grades every demo/<assignment>/ folder into grading/<assignment>/ (gradebook, grades.csv, feedback/).
demo: $(STAMP) data
	@for dir in demo/*/; do \
		name=$$(basename $$dir); \
		$(BIN)/autograder grade $$name $$dir --out grading/$$name || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check autograder tests benchmarks

# Everyday work: lint and the fast tier (no TensorFlow notebooks, no book build).
check: lint data
	$(BIN)/python -m pytest -m "not slow" -q

test: lint data book
	$(BIN)/python -m pytest

clean:
	rm -rf _build grading

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
# pytest keeps its rewritten test modules as bytecode; with bytecode off every test process redoes it (~3 s).
unexport PYTHONDONTWRITEBYTECODE
# The fast tier's processes: one more than the cores, since its tests often wait on a kernel or a server.
FAST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

.PHONY: all test check lint linkcheck venv data release references book demo serve clean

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

# Release records the SHA-256 of the built SIGNS files in course_data.json: build them first.
release: $(STAMP) data
	$(BIN)/autograder release

references: $(STAMP) data
	$(BIN)/autograder reference build

# The book publishes the SIGNS files for students' notebooks (book/_ext/signs_data.py): build them first.
# Then the Chinese edition (book/zh/, a book of its own), copied into the site as _build/html/zh/.
book: $(STAMP) data
	$(BIN)/jupyter-book build . -W -n --keep-going
	$(BIN)/jupyter-book build book/zh -W -n --keep-going
	rm -rf _build/html/zh && cp -r book/zh/_build/html _build/html/zh

# Grades every demo/<assignment>/ folder into grading/<assignment>/ (the default output folder: gradebook.db,
# autograder-grades.csv, autograder-feedback/, autograder-summary.html; names nbgrader's tools never write).
demo: $(STAMP) data
	@for dir in demo/*/; do \
		$(BIN)/autograder grade $$(basename $$dir) $$dir || exit 1; \
	done

# The course site on the demo course at http://127.0.0.1:8000 (state in grading/site-demo/): the demo students and
# their submissions (graded as the server starts) and an instructor; prints their one-time sign-in links.
serve: $(STAMP) data
	$(BIN)/autograder serve --demo --data-dir grading/site-demo

# Before publishing the book (needs the internet; CI checks the book's internal links in tests/book/test_links.py).
linkcheck: $(STAMP)
	$(BIN)/jupyter-book build . --builder linkcheck

lint: $(STAMP)
	$(BIN)/ruff check autograder tests benchmarks demo book/_ext
	$(BIN)/ruff format --check autograder tests benchmarks demo book/_ext

# Everyday work: lint and the fast tier (no TensorFlow notebooks, no book build, no staged faults), on every
# core (pytest-xdist; --dist loadscope keeps a module's tests, and so its fixtures, on one worker).
FAST_TIER = $(BIN)/python -m pytest -m "not slow" -n $(FAST_WORKERS) --dist loadscope

check: lint data
	$(FAST_TIER) -q

# Everything: the fast tier as above, then the slow tier in one process (TensorFlow runs and staged faults
# would only compete for the cores; the variant tests grade two cases at a time themselves).
test: lint data book
	@status=0; $(FAST_TIER) || status=1; $(BIN)/python -m pytest -m slow || status=1; exit $$status

clean:
	rm -rf _build grading

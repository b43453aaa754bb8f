"""Issue #11, item 8: the read step repairs malformed cells without changing what runs, and notes it.

A submission's metadata decides nothing that is graded, and a character that no UTF-8 text can hold (a lone
surrogate, which JSON can spell as ``\\ud83d``) cannot be written or compiled: neither may cost the points
the code earned.
"""

from __future__ import annotations

import json
import math

import nbformat
import pytest

from autograder.grading import core, pipeline
from autograder.grading.result import GRADED
from tests.toy_course import FAST, cell_index, with_extra


def malformed(solved) -> dict:
    """The solved notebook as JSON data, with every kind of malformed cell a submission can carry."""
    data = json.loads(json.dumps(solved))
    cells = data["cells"]
    cells[cell_index(solved, "scale")]["metadata"]["tags"] = "not-a-list"
    draw = cells[cell_index(solved, "draw_rates")]
    draw["source"] = draw["source"] + "\n# half an emoji: \ud83d\n"
    count = cells[cell_index(solved, "count_positive")]["metadata"]
    count.update({"tags": ["a", "a", 3, "b,c"], "collapsed": "yes", "note": math.nan, "name": "x\udcff"})
    markdown = next(c for c in cells if c["cell_type"] == "markdown")
    markdown["source"] = "Caf\udce9 \ud800"
    cells.append(42)
    cells.append({"cell_type": "heading", "source": "an nbformat 3 heading", "metadata": {}})
    cells.append({"cell_type": "code", "source": "y = 1", "metadata": [1, 2]})
    return data


def test_malformed_cells_cost_no_points_and_are_noted(grade, solved, tmp_path):
    path = tmp_path / "submission.ipynb"
    path.write_text(json.dumps(malformed(solved)))  # ensure_ascii: the surrogates are \u escapes, as in real files
    result = grade(path)
    assert result.status == GRADED and result.reasons == []
    assert result.score == 10, [c for c in result.checks if not c.passed]
    notes = "\n".join(result.tampering)
    for expected in (
        "malformed metadata 'tags' (str) was repaired",
        "malformed metadata 'tags' (list) was repaired",
        "metadata 'collapsed' is not valid nbformat and was dropped",
        "cannot be written as JSON text (lone surrogates, NaN) was repaired",
        "1 character(s) that are not valid text (lone surrogates) were replaced by U+FFFD",
        "2 character(s) that are not valid text",
        "malformed (no known cell type or no text as source); dropped",
        "metadata that is not a JSON object was dropped",
    ):
        assert expected in notes, notes
    assert sum("malformed (no known cell type" in t for t in result.tampering) == 2


def test_the_repaired_notebook_is_valid_and_writable(toy, solved):
    for submission in (malformed(solved), nbformat.from_dict(malformed(solved))):
        state = pipeline.run(core.make_state(submission, toy, limits=FAST), ["read", "restore"])
        nbformat.validate(state.nb)
        text = nbformat.writes(state.nb)
        text.encode("utf-8")  # no surrogate left anywhere
        again = nbformat.reads(text, as_version=4)
        draw = again.cells[cell_index(again, "draw_rates")]
        assert draw.source.endswith("# half an emoji: \ufffd\n")  # the code itself is unchanged
        count = again.cells[cell_index(again, "count_positive")]
        assert "collapsed" not in count.metadata


@pytest.mark.parametrize("tags", ["skip-grading", ["skip-grading", "skip-grading"], ["x,skip-grading"], "a, skip-grading"])
def test_a_skip_tag_in_malformed_tags_still_skips_the_cell(toy, solved, tags):
    nb = with_extra(solved, "imports", "while True:\n    pass  # the long training run")
    data = json.loads(json.dumps(nb))
    data["cells"][cell_index(nb, "imports") + 1]["metadata"]["tags"] = tags
    state = pipeline.run(core.make_state(data, toy, limits=FAST), ["read", "restore", "prepare"])
    assert not [c for c in state.nb.cells if "while True" in c.source]


@pytest.mark.parametrize(
    "raw,metadata,note",
    [
        ({"tags": 7}, {}, "malformed metadata 'tags' (int) was dropped"),
        ({"tags": ["a", ""]}, {"tags": ["a"]}, "malformed metadata 'tags' (list) was repaired"),
        ({"jupyter": "x", "nbgrader": {"grade_id": "scale"}}, {"nbgrader": {"grade_id": "scale"}}, "metadata 'jupyter' is not valid"),
        ({"deep": {"a": [1.0, math.inf]}}, {"deep": {"a": [1.0, None]}}, "(lone surrogates, NaN) was repaired"),
        ({"ok": 1, "tags": ["a"]}, {"ok": 1, "tags": ["a"]}, None),
    ],
)
def test_clean_cell_repairs_metadata(raw, metadata, note):
    notes: list[str] = []
    cell = pipeline._clean_cell({"cell_type": "code", "source": "x = 1", "metadata": raw}, "cell 3", notes)
    assert cell.metadata == metadata and cell.source == "x = 1"
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1 and notes[0].startswith("cell 3: ") and note in notes[0]


def test_metadata_nested_too_deeply_is_dropped():
    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    notes: list[str] = []
    cell = pipeline._clean_cell({"cell_type": "markdown", "source": "", "metadata": deep}, "cell 0", notes)
    assert cell.metadata == {} and notes == ["cell 0: metadata nested too deeply was dropped"]

"""Kernels started ahead: each serves exactly one run, looks to the notebook like a kernel started for it,
and is used only by a run that would have started the same kernel."""

from __future__ import annotations

import dataclasses
import json

import nbformat
import pytest

from autograder.grading import runner
from autograder.grading.sandbox import kernel_manager
from tests.grading.test_sandbox import sandbox_ok  # noqa: F401  (fixture)
from tests.toy_course import FAST

pytestmark = pytest.mark.timeout(240)


def nb_of(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream" and o.get("name") == "stdout")


# What a notebook can see of its kernel: the pid, names bound in its namespace, its history, the modules
# loaded, and what an earlier run left behind (a global, a file in the folder, an attribute set on a module).
PROBE = (
    "import os, sys, json\n"
    "seen = {'pid': os.getpid(), 'left': globals().get('LEFT_BEHIND'), 'mark': getattr(json, 'MARK', None),\n"
    "        'files': sorted(os.listdir('.')), 'history': len(In), 'names': sorted(k for k in globals() if not k.startswith('_')),\n"
    "        'colorsys': 'colorsys' in sys.modules}\n"
    "LEFT_BEHIND = 1\n"
    "json.MARK = 1\n"
    "open('planted.txt', 'w').write('x')\n"
    "print(json.dumps(seen))"
)


@pytest.fixture
def ahead():
    runner.keep_kernels_ahead()
    yield
    runner.keep_kernels_ahead(False)


def _run(nb, **kw):
    out, outcome = runner.run(nb, limits=FAST, **kw)
    assert outcome.status == "ok", outcome
    return json.loads(printed(out.cells[0]))


@pytest.mark.parametrize("sandboxed", [False, True], ids=["plain", "sandboxed"])
def test_every_run_gets_a_fresh_kernel_that_no_earlier_run_touched(ahead, sandboxed, request):
    factory = None
    if sandboxed:
        request.getfixturevalue("sandbox_ok")
        factory = kernel_manager
    first = _run(nb_of(PROBE), kernel_manager_factory=factory, preload=("colorsys",))
    second = _run(nb_of(PROBE), kernel_manager_factory=factory, preload=("colorsys",))
    assert second["pid"] != first["pid"] or sandboxed  # a sandbox has its own pid namespace: compare the rest
    for seen in (first, second):
        assert seen["left"] is None and seen["mark"] is None and "planted.txt" not in seen["files"]
        assert runner.NOTEBOOK_NAME in seen["files"]
    # the second run's kernel was started ahead (while the first ran), with the module imported
    assert second["colorsys"] is True


def test_the_preload_leaves_no_name_no_history_and_no_output():
    nb = nb_of(PROBE, "print(1)")
    cold_nb, _ = runner.run(nb, limits=FAST)  # a kernel started for the run
    runner.keep_kernels_ahead()
    try:
        runner.start_ahead(limits=FAST, preload=("colorsys", "no_such_module_anywhere"))
        runner.wait_ahead()
        warm_nb, outcome = runner.run(nb, limits=FAST, preload=("colorsys", "no_such_module_anywhere"))
    finally:
        runner.keep_kernels_ahead(False)
    cold, warm = json.loads(printed(cold_nb.cells[0])), json.loads(printed(warm_nb.cells[0]))
    assert (cold["colorsys"], warm["colorsys"]) == (False, True)  # the second kernel was the one started ahead
    assert warm["names"] == cold["names"] and "os" in warm["names"]  # the preload bound no name
    assert warm["history"] == cold["history"] == 2  # In[0] is empty, In[1] the probe: no entry of the preload
    assert [c.execution_count for c in warm_nb.cells] == [c.execution_count for c in cold_nb.cells] == [1, 2]
    assert [o for o in warm_nb.cells[0].outputs if o.get("name") != "stdout"] == []  # nothing it printed


def test_a_kernel_started_otherwise_is_never_used(ahead, tmp_path):
    runner.start_ahead(limits=FAST, preload=("colorsys",))
    runner.wait_ahead()
    other_limits = dataclasses.replace(FAST, memory_mb=FAST.memory_mb + 1)
    for kw in ({"preload": ()}, {"preload": ("colorsys",), "data_dir": tmp_path}, {"preload": ("colorsys",), "limits": other_limits}):
        runner.start_ahead(limits=FAST, preload=("colorsys",))
        runner.wait_ahead()
        out, outcome = runner.run(nb_of(PROBE), **{"limits": FAST, **kw})
        assert outcome.status == "ok"
        assert json.loads(printed(out.cells[0]))["colorsys"] is False, kw


def test_a_run_that_times_out_leaves_the_next_kernel_untouched(ahead):
    slow = dataclasses.replace(FAST, notebook_timeout=3, cell_timeout=3)
    out, outcome = runner.run(nb_of("import json; json.MARK = 1; LEFT_BEHIND = 1", "while True: pass"), limits=slow)
    assert outcome.status == "timeout"
    after = _run(nb_of(PROBE))
    assert after["left"] is None and after["mark"] is None


def test_what_is_preloaded_comes_from_the_trusted_notebook_and_installed_modules_only():
    source = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np\nfrom json import decoder\nimport course_utils"),
            nbformat.v4.new_code_cell("import no_such_module_anywhere\nimport os.path\nfrom . import local"),
            nbformat.v4.new_code_cell("def f(:\n  broken"),
            nbformat.v4.new_markdown_cell("import colorsys"),
        ]
    )
    assert runner.imports_of(source) == ("numpy", "json", "os.path")

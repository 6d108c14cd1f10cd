"""Attacks on the trust boundary, each written in the student's own file, as a motivated student would.

Every test asserts the grade the honest part of the work deserves, that nothing outside the
grading's scratch was read or written, and that no process of the grading's uid is left. They run
as root (as Gradescope does), where each grading has a uid of its own; elsewhere they are skipped,
saying why.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.assignments.umn_csci5527_hw3 import p1
from autograder.isolation import processes_of
from autograder.config import REPO_ROOT
from conftest import HW3, by_id, grading_uid, lost, mutate, needs_isolation, reference_text, world_writable

pytestmark = [needs_isolation, pytest.mark.slow]
FILE = "hw3_p1.py"
ALL = {c.id for c in p1.PROBLEM.checks}
FORWARD = {"p1.forward.handout_seed", "p1.forward.other_seeds"}
BACKWARD = {"p1.backward.handout_seed", "p1.backward.other_seeds", "p1.autograd.agrees_with_backward"}
FAULTY_SCORE = 2.25  # the reference with V5's gradient sign flipped: loses BACKWARD


@pytest.fixture(scope="module")
def reference() -> str:
    return reference_text(HW3, FILE)


@pytest.fixture(scope="module")
def faulty(reference) -> str:
    return mutate(reference, 'g["V5"] = -g["D"]', 'g["V5"] = g["D"]')


@pytest.fixture
def drop() -> Path:
    """In /tmp itself, where an attack that got through would leave its mark."""
    yield from world_writable("attack-drop-", "/tmp")


@pytest.fixture
def root_only(tmp_path) -> Path:
    """A folder only root can write: a mark here means student code ran as root."""
    folder = tmp_path / "root-only"
    folder.mkdir(mode=0o700)
    return folder


def in_forward(source: str, code: str) -> str:
    """`source` whose forward runs `code` first."""
    body = textwrap.indent(textwrap.dedent(code).strip() + "\n", "    ")
    return mutate(source, "    V1 = W1 @ X\n", body + "    V1 = W1 @ X\n")


def assert_nothing_left(g) -> None:
    assert not processes_of(grading_uid(g))


# --- running code as root -------------------------------------------------------------------------

def test_files_planted_for_a_restarted_worker_never_run_as_root(grade_p1, faulty, root_only):
    """At import the student plants numpy.py, torch.py, sitecustomize.py and a .pth in HOME's user
    site, then crashes the worker in a check so that a fresh one (started by root) comes up."""
    mark = root_only / "ran-as-root"
    payload = f"open({str(mark)!r}, 'w').write('root')\n"
    attack = textwrap.dedent(f"""
        import os, sys
        _here = os.path.dirname(os.path.abspath(__file__))
        _home = os.path.expanduser("~")
        _site = os.path.join(_home, ".local", "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
        os.makedirs(_site, exist_ok=True)
        for _folder in (_here, _home, os.getcwd(), _site):
            for _name in ("numpy.py", "torch.py", "sitecustomize.py", "usercustomize.py", "pydantic.py"):
                try:
                    open(os.path.join(_folder, _name), "w").write({payload!r})
                except OSError:
                    pass
        open(os.path.join(_site, "evil.pth"), "w").write("import os; " + {payload!r})
        """)
    crash_once = "import os\nif not os.path.exists('crashed'):\n    open('crashed', 'w').close()\n    os._exit(3)"
    g = grade_p1({FILE: in_forward(faulty, crash_once) + attack})
    assert not mark.exists()
    assert by_id(g, "p1.forward.handout_seed").outcome.value == "crashed"
    assert lost(g) == BACKWARD | {"p1.forward.handout_seed"}  # the restarted worker graded the rest
    assert_nothing_left(g)


def test_links_planted_in_the_students_folders_are_never_followed(grade_p1, faulty, root_only):
    """The student replaces every name in reach with links to a root-only folder, hoping that the
    grader chowns, writes or reads through them (as it once did with out/<check id>)."""
    (root_only / "secret.npy").write_bytes(b"reference values")
    attack = textwrap.dedent(f"""
        import os
        for _folder in (os.getcwd(), os.path.expanduser("~"), os.environ.get("TMPDIR", "/tmp")):
            for _name in ("out", "a0.npy", "manifest.json", "results.json", "worker.log", "inputs",
                          *{sorted(ALL)!r}):
                try:
                    os.symlink({str(root_only)!r}, os.path.join(_folder, _name))
                except OSError:
                    pass
        """)
    g = grade_p1({FILE: faulty + attack})
    assert g.score == FAULTY_SCORE
    info = root_only.stat()
    assert (info.st_uid, info.st_mode & 0o777) == (0, 0o700)
    assert sorted(p.name for p in root_only.iterdir()) == ["secret.npy"]
    assert "reference values" not in g.model_dump_json()
    assert_nothing_left(g)


# --- outliving the grading ------------------------------------------------------------------------

ESCAPE = """
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        loop = "import time\\nfor _ in range(200):\\n    time.sleep(0.05)\\n    " \\
               "try:\\n        open(%r, 'a').write('alive')\\n    except OSError:\\n        pass" % MARK
        os.execve(sys.executable, [sys.executable, "-c", loop], {})
    os._exit(0)
"""


def test_a_double_forked_setsid_process_with_no_environment_dies_with_the_grading(grade_p1, faulty, drop):
    mark = drop / "still-alive"
    g = grade_p1({FILE: faulty + f"\nMARK = {str(mark)!r}\n" + ESCAPE}, namespaces=False)  # the first layer alone
    assert g.score == FAULTY_SCORE
    assert_nothing_left(g)
    time.sleep(0.3)
    assert not mark.exists()  # what it wrote meanwhile was removed, and nothing wrote since


def test_concurrent_gradings_cannot_see_each_other(grade_p1, faulty, drop):
    """Two gradings at once: one lingers in a check, the other hunts for its files."""
    patient = in_forward(faulty, "import time\ntime.sleep(4)")
    hunter = in_forward(faulty, """
        import glob, os, time
        mine = os.path.realpath(os.getcwd())
        seen = []
        # Three seconds of hunting, however much /tmp/autograder-* holds: within the check's time limit.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            for path in glob.iglob("/tmp/autograder-*/**", recursive=True):
                if time.monotonic() > deadline:
                    break
                if os.path.isfile(path) and not os.path.realpath(path).startswith(os.path.dirname(mine)):
                    try:
                        open(path, "a").write("# changed by another student")
                        seen.append("WROTE " + path)
                    except OSError:
                        pass
                    try:
                        open(path).read()
                        seen.append("READ " + path)
                    except OSError:
                        pass
            time.sleep(0.1)
        print("HUNT", sorted(set(seen)))
        """)
    with ThreadPoolExecutor(2) as pool:
        waited = pool.submit(grade_p1, {FILE: patient}, namespaces=False)  # the first layer alone
        time.sleep(1.5)
        hunted = pool.submit(grade_p1, {FILE: hunter}, namespaces=False)
        patient_grade, hunter_grade = waited.result(), hunted.result()
    assert patient_grade.score == hunter_grade.score == FAULTY_SCORE
    assert grading_uid(patient_grade) != grading_uid(hunter_grade)
    assert "HUNT []" in by_id(hunter_grade, "p1.forward.handout_seed").student_output
    assert_nothing_left(patient_grade)
    assert_nothing_left(hunter_grade)


# --- making the judge read what the student chooses -----------------------------------------------

@pytest.mark.parametrize("replacement", ["decoy", "fifo", "link"])
def test_static_checks_judge_the_source_as_uploaded(grade_hw3, replacement):
    """P2 bans torch.optim in the source; at import the file puts a decoy without it in its own
    place, a FIFO (which would hang a reader), or a link to the root-only reference."""
    reference = reference_text(HW3, "hw3_p2.py")
    swap = {"decoy": "os.unlink(_me); open(_me, 'w').write(_clean)",
            "fifo": "os.unlink(_me); os.mkfifo(_me)",
            "link": f"os.unlink(_me); os.symlink({str(REPO_ROOT / 'reference' / HW3 / 'hw3_p2.py')!r}, _me)"}
    attack = (f"\nimport os\nimport torch.optim as _banned\n_me = os.path.abspath(__file__)\n"
              f"_clean = {reference!r}\n{swap[replacement]}\n")
    g = grade_hw3({"hw3_p2.py": reference + attack})
    ban = by_id(g, "p2.no_torch_optim.source")
    assert ban.outcome.value == "failed" and "uses torch.optim" in ban.feedback.summary
    assert by_id(g, "p2.adagrad.matches_torch").outcome.value == "passed"
    assert_nothing_left(g)


# --- choosing the verdict -------------------------------------------------------------------------

def test_an_error_raised_under_the_graders_file_name_is_the_students(grade_p1, reference):
    from autograder import judges

    disguise = f"exec(compile('raise RuntimeError(\"autograder bug\")', {judges.__file__!r}, 'exec'))"
    g = grade_p1({FILE: in_forward(reference, disguise)})
    assert lost(g) == FORWARD
    forward = by_id(g, "p1.forward.handout_seed")
    assert forward.outcome.value == "error" and "RuntimeError: autograder bug" in forward.feedback.summary
    assert "harness_error" not in {c.outcome.value for c in g.checks}


def test_exhausting_file_descriptors_is_the_students_fault(grade_p1, reference):
    hog = "_held = []\ntry:\n    while True:\n        _held.append(open('/dev/null'))\nexcept OSError:\n    pass"
    g = grade_p1({FILE: in_forward(reference, hog)})
    assert "harness_error" not in {c.outcome.value for c in g.checks}
    assert lost(g) <= FORWARD | BACKWARD | {"p1.autograd.handout_seed", "p1.autograd.other_seeds"}
    assert_nothing_left(g)


def test_forged_replies_on_the_pipe_cost_only_that_check(grade_p1, reference):
    """The student writes its own reply, claiming a harness error, on every pipe it holds."""
    forge = textwrap.dedent("""
        import os, stat
        _lie = (b'{"ok": false, "error": {"kind": "harness", "message": "autograder bug"}}\\n'
                b'{"ok": false, "error": {"kind": "exception", "message": "grader", "in_student_code": false}}\\n')
        for _fd in range(3, 256):
            try:
                if stat.S_ISFIFO(os.fstat(_fd).st_mode):
                    os.write(_fd, _lie)
            except OSError:
                pass
        """)
    g = grade_p1({FILE: in_forward(reference, forge)})
    outcomes = {c.outcome.value for c in g.checks}
    assert "harness_error" not in outcomes
    assert lost(g) == FORWARD
    assert by_id(g, "p1.backward.handout_seed").outcome.value == "passed"


def test_odd_return_types_are_the_students_fault(grade_p1, reference):
    odd = textwrap.dedent("""
        class _Weird(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                raise RuntimeError("no")
        _forward = forward
        def forward(*args):
            return {k: torch.as_tensor(v).as_subclass(_Weird) for k, v in _forward(*args).items()}
        """)
    g = grade_p1({FILE: reference.split("\nif __name__")[0] + "\nimport torch\n" + odd})
    assert "harness_error" not in {c.outcome.value for c in g.checks}
    assert FORWARD <= lost(g)


# --- breaking the grading for everyone in it ------------------------------------------------------

def test_outputs_declared_larger_than_the_limits_are_refused_before_reading(grade_p1, faulty):
    """A forged declaration of a terabyte array, and of ten 255 MB arrays in one check."""
    forge = textwrap.dedent("""
        import os, autograder.transport as _t
        def _pack(outputs):  # the worker is restarted after each refusal: the first call is marked on disk
            if not os.path.exists("declared-once"):
                open("declared-once", "w").close()
                arrays = {"V1": _t.ArraySpec.model_construct(dtype="float64", shape=(10**6, 10**6))}
            else:
                arrays = {f"V{i}": _t.ArraySpec.model_construct(dtype="uint8", shape=(255 << 20,)) for i in range(10)}
            return _t.OutputsManifest.model_construct(values={}, arrays=arrays), []
        _t.pack_outputs = _pack
        """)
    start = time.perf_counter()
    g = grade_p1({FILE: faulty + forge, }, problems=("p1",))
    assert time.perf_counter() - start < 60
    first, second = (by_id(g, c) for c in ("p1.make_data.handout_draws", "p1.forward.handout_seed"))
    assert "would be 7629394 MiB; at most 256 MiB is read" in first.feedback.summary
    assert "would be 2550 MiB together; at most 256 MiB is read per check" in second.feedback.summary
    assert {c.outcome.value for c in g.checks} == {"error"}  # each check on its own, no grading-wide failure
    assert_nothing_left(g)


def test_files_in_shared_places_are_removed_and_count_against_the_quota(grade_p1, faulty):
    litter = in_forward(faulty, """
        import os
        for _place in ("/tmp", "/var/tmp", "/dev/shm"):
            try:
                with open(os.path.join(_place, "litter-%d" % os.getuid()), "wb") as f:
                    f.write(b"x" * (1 << 20))
            except OSError:
                pass
        """)
    g = grade_p1({FILE: litter}, namespaces=False)  # the first layer alone: the real /tmp, cleaned by uid
    uid = grading_uid(g)
    assert g.score == FAULTY_SCORE
    assert not [p for p in ("/tmp", "/var/tmp", "/dev/shm") if os.path.exists(f"{p}/litter-{uid}")]
    filler = in_forward(faulty, """
        import os, time
        with open(os.path.join(os.environ["TMPDIR"], "filler"), "wb") as f:
            for _ in range(40):
                f.write(b"x" * (4 << 20))
                f.flush()
                time.sleep(0.1)
        """)
    g = grade_p1({FILE: filler}, disk_limit_mb=32, namespaces=False)
    forward = by_id(g, "p1.forward.handout_seed")
    assert forward.outcome.value == "crashed"
    assert "wrote more than 32 MiB or 20000 files to disk" in forward.feedback.summary
    assert_nothing_left(g)


def test_crashing_every_check_after_a_slow_import_is_bounded_by_the_time_budget(grade_p1, reference):
    """Each crash restarts the worker, which imports the file again: 2 s a check, without a budget."""
    slow = reference + "\nimport time as _time\n_time.sleep(2)\n"
    crash = in_forward(slow, "import os\nos._exit(1)")
    crash = mutate(crash, "def make_data(", "def make_data(*_a, **_k):\n    import os\n    os._exit(1)\n\n\ndef _old_make_data(")
    start = time.perf_counter()
    g = grade_p1({FILE: crash}, time_budget_s=8)
    took = time.perf_counter() - start
    assert took < 8 + 6  # the budget, plus starting and stopping
    spent = [c for c in g.checks if "used up its 8 s of grading time" in c.feedback.summary]
    assert spent and all(c.score == 0 for c in spent)
    assert_nothing_left(g)


# --- a class, and the Gradescope container ----------------------------------------------------

def test_one_student_cannot_reach_another_in_a_batch(p1_config, tmp_path, reference, faulty, drop):
    """Alice's code leaves a process hunting for the next students' staged files and the gradebook;
    beside her: alice.zip, a folder whose name is not UTF-8, one named like the gradebook."""
    import csv
    import json
    import zipfile

    from autograder.assignments import load_assignment
    from autograder.batch import grade_class

    out = tmp_path / "out"
    hunt = textwrap.dedent(f"""
        import glob, os, time
        for _ in range(150):
            for path in glob.glob("/tmp/autograder-*/submission/*.py") + [{str(out / "gradebook.csv")!r}]:
                try:
                    open(path, "w").write("def forward(*a):\\n    raise SystemExit\\n")
                    open({str(drop / "reached")!r}, "a").write(path + "\\n")
                except OSError:
                    pass
            time.sleep(0.05)
        """)
    escape = ESCAPE.replace("loop = ", f"loop = {hunt!r} or ")
    class_dir = tmp_path / "class"
    for name, text in {"alice": reference + "\nMARK = None\n" + escape, "bob": faulty,
                       "gradebook.csv": reference}.items():
        (class_dir / name).mkdir(parents=True)
        (class_dir / name / FILE).write_text(text)
    with zipfile.ZipFile(class_dir / "alice.zip", "w") as zf:
        zf.writestr(f"hw/{FILE}", faulty)
    strange = os.fsencode(class_dir) + b"/caf\xe9"
    os.mkdir(strange)
    with open(strange + b"/" + FILE.encode(), "w") as f:
        f.write(faulty)

    # Two at a time: concurrent gradings are as closed to each other as gradings one after another.
    summary = grade_class(class_dir, load_assignment(HW3), p1_config(namespaces=False), out, jobs=2)  # the first layer

    rows = {r["student"]: float(r["score"]) for r in csv.DictReader(open(out / "gradebook.csv", encoding="utf-8"))}
    assert rows == {"alice": 4.5, "alice.zip": 2.25, "bob": 2.25, "caf_": 2.25, "gradebook.csv-2": 4.5}
    assert summary.submissions == 5 and not summary.harness_errors
    assert json.loads((out / "class_summary.json").read_text())["submissions"] == 5
    assert all((out / name / "results.json").is_file() for name in rows)
    time.sleep(0.5)
    assert not (drop / "reached").exists()


def test_results_json_is_the_judges_in_the_gradescope_container(make_config, tmp_path_factory, faulty, drop):
    """The built zip's run_autograder, in a temporary root standing for /autograder: the student
    writes results.json, links the results folder away, and leaves a process to overwrite it after."""
    import json
    import subprocess
    import sys

    from autograder import gradescope
    from autograder.assignments import load_assignment

    # Outside /tmp, as /autograder is: the worker's private /tmp (second layer) must not hide it from the attack.
    home = Path(tempfile.mkdtemp(prefix="gradescope-", dir=Path.home()))
    home.chmod(0o755)
    zip_path, _ = gradescope.build(load_assignment(HW3), tmp_path_factory.mktemp("zip") / "autograder.zip",
                                   make_config(problems=None), leave_out_missing_data=True)
    gradescope.unpack(zip_path, home / "source")
    (home / "submission").mkdir()
    (home / "results").mkdir()
    results = home / "results" / "results.json"
    forged = json.dumps({"score": 100, "tests": []})
    overwrite = f"try:\n    open({str(results)!r}, 'w').write({forged!r})\nexcept OSError:\n    pass"
    attack = textwrap.dedent(f"""
        import os
        {overwrite.replace(chr(10), chr(10) + '        ')}
        try:
            os.symlink({str(home / "results")!r}, os.path.join(os.getcwd(), "results"))
        except OSError:
            pass
        """) + f"\nMARK = {str(results)!r}\n" + ESCAPE
    (home / "submission" / FILE).write_text(faulty + attack)
    done = subprocess.run([str(home / "source" / "run_autograder")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "AUTOGRADER_HOME": str(home),
                               "AUTOGRADER_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    time.sleep(0.5)
    written = json.loads(results.read_text())
    judged = json.loads((home / "results" / "summary.json").read_text())
    assert written["score"] == judged["score"] == FAULTY_SCORE
    p1 = [t for t in written["tests"] if "p1" in t["tags"]]
    assert sum(t["score"] for t in p1) == FAULTY_SCORE and [t["status"] for t in p1].count("failed") == 3
    assert results.stat().st_uid == 0 and (home / "results").stat().st_uid == 0
    shutil.rmtree(home)


# --- scoring without solving ----------------------------------------------------------------------

LABEL_THIEF = '''
import inspect as _inspect, os as _os
from pathlib import Path as _Path


def _stolen_labels():
    """Every way the model could find the held-out labels: the call stack, the environment, the
    data root it knows from the course's set-up, the grader's own loaders."""
    from autograder.data import mnist as _mnist
    places = {_os.environ.get("AUTOGRADER_DATA_ROOT"), DATA_ROOT}
    for frame in _inspect.stack():
        for value in list(frame.frame.f_locals.values()):
            for name in ("data_root", "inputs_dir", "folder"):
                places.add(str(getattr(value, name, None)))
    for place in filter(None, places):
        for root in (_Path(place), _Path(place).parent):
            try:
                return _mnist.load_labels(root / _mnist.DATASET, "test")
            except Exception:
                pass
            for found in root.rglob("*.npz") if root.is_dir() else ():
                try:
                    import numpy as _np
                    data = _np.load(found)
                    for key in data.files:
                        if "label" in key:
                            return data[key]
                except Exception:
                    pass
    return None


_honest_make_model = make_model


def make_model():
    model = _honest_make_model()
    plain = model.forward
    seen = [0]

    def forward(x):
        labels = _stolen_labels()
        if labels is None:
            return plain(x)
        batch = torch.as_tensor(labels[seen[0]:seen[0] + len(x)]).long()
        seen[0] += len(x)
        return torch.nn.functional.one_hot(batch, 10).float() * 10

    model.forward = forward
    return model
'''


def test_an_untrained_model_cannot_read_the_held_out_labels(grade_hw3, hw3_root, tmp_path):
    """Untrained checkpoints, and a model that looks for the test labels wherever they could be."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("hw3_p2_ref", REPO_ROOT / "reference" / HW3 / "hw3_p2.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = {"hw3_p2.py": reference_text(HW3, "hw3_p2.py") + f"\nDATA_ROOT = {str(hw3_root)!r}\n" + LABEL_THIEF}
    for name in ("p2_adagrad.pt", "p2_rmsprop.pt", "p2_adam.pt"):
        torch.save(module.make_model().state_dict(), tmp_path / name)
        files[name] = tmp_path / name
    g = grade_hw3(files)
    accuracy = by_id(g, "p2.checkpoints.accuracy_98")
    assert accuracy.outcome.value == "failed", accuracy.feedback.summary
    assert "98" in accuracy.feedback.summary
    assert by_id(g, "p2.adagrad.matches_torch").outcome.value == "passed"
    assert_nothing_left(g)


def test_the_second_layer_gives_the_worker_its_own_tmp(grade_p1, faulty):
    """Where mount namespaces are allowed, what the student writes to /tmp and /dev/shm lives in
    tmpfs of its own, gone with its last process; /dev/shm is capped at 64 MiB."""
    name = f"second-layer-{os.getpid()}"
    writes = in_forward(faulty, f"""
        for _place in ("/tmp", "/dev/shm"):
            open(_place + "/{name}", "w").write("x")
        try:
            open("/dev/shm/{name}-big", "wb").write(b"x" * (80 << 20))
            print("SHM: 80 MiB written")
        except OSError as exc:
            print("SHM:", exc.strerror)
        """)
    g = grade_p1({FILE: writes})
    private = next(p for p in g.protections if p.name == "private /tmp")
    if not private.active:
        pytest.skip(f"no mount namespace here: {private.detail}")
    assert g.score == FAULTY_SCORE
    assert "SHM: No space left on device" in by_id(g, "p1.forward.handout_seed").student_output
    assert not os.path.exists(f"/tmp/{name}") and not os.path.exists(f"/dev/shm/{name}")
    assert_nothing_left(g)


def test_a_million_empty_files_stop_the_worker_without_stalling_the_grader(grade_p1, faulty):
    """Files, not bytes: the quota counts entries too, and the watch stops counting past the limit."""
    swarm = in_forward(faulty, """
        import os
        os.mkdir("swarm")
        for i in range(1_000_000):
            open(f"swarm/{i}", "w").close()
        """)
    start = time.perf_counter()
    g = grade_p1({FILE: swarm}, namespaces=False)
    forward = by_id(g, "p1.forward.handout_seed")
    assert forward.outcome.value == "crashed" and "20000 files" in forward.feedback.summary
    assert time.perf_counter() - start < 60
    assert lost(g) == BACKWARD | FORWARD  # forward makes its swarm again in both of its checks
    assert_nothing_left(g)

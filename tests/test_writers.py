"""results.json follows Gradescope's specification; the HTML report parses and shows every check."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from bs4 import BeautifulSoup

from autograder.results import Grade
from autograder.runner import grade_safely
from autograder.writers import gradescope_results, render_html, write_gradescope
from conftest import HW3, mutate, reference_text
from markdown_view import shown_text

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope_results.schema.json").read_text())
FILE = "hw3_p1.py"


@pytest.fixture(scope="module")
def faulty_grade(grade_p1) -> Grade:
    text = mutate(reference_text(HW3, FILE), 'g["W3"] = g["V5"] @ values["V4"].T', 'g["W3"] = values["V4"] @ g["V5"].T')
    return grade_p1({FILE: text}, sandbox=True)  # the report lists the sandbox's protections


def test_results_json_validates_against_the_gradescope_schema(faulty_grade, tmp_path):
    write_gradescope(faulty_grade, tmp_path / "results.json")
    results = json.loads((tmp_path / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == faulty_grade.score
    assert len(results["tests"]) == len(faulty_grade.checks)
    assert sum(t["max_score"] for t in results["tests"]) == 4.5
    hidden = [t for t in results["tests"] if "other_seeds" in t["name"]]
    assert hidden and {t["visibility"] for t in hidden} == {"hidden"}


def test_results_json_says_what_was_expected_and_where(faulty_grade):
    tests = gradescope_results(faulty_grade)["tests"]
    backward = next(t for t in tests if "[p1.backward.handout_seed]" in t["name"])
    assert backward["status"] == "failed"
    assert "W3.g: expected shape (2, 3), got (3, 2)" in shown_text(backward["output"])  # feedback is escaped


def test_harness_failure_still_writes_valid_results_that_say_so(p1_config, tmp_path, monkeypatch):
    from autograder import runner
    from autograder.assignments import load_assignment

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runner, "stage", explode)
    g = grade_safely(tmp_path, load_assignment(HW3), p1_config())
    results = gradescope_results(g)
    jsonschema.validate(results, SCHEMA)
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    assert visible[0]["name"] == "The autograder failed"
    assert "tell your instructor" in visible[0]["output"]
    debug = next(t for t in results["tests"] if t["visibility"] == "hidden")
    assert "disk on fire" in debug["output"]


def test_html_report_parses_and_shows_every_check(faulty_grade):
    html = render_html(faulty_grade)
    soup = BeautifulSoup(html, "html.parser")
    rows = soup.select("tr.check")
    assert [r["data-check"] for r in rows] == [c.id for c in faulty_grade.checks]
    assert soup.select_one("#total").get_text(strip=True) == f"{faulty_grade.score:g} / 4.5 points"
    row = soup.select_one('tr[data-check="p1.backward.handout_seed"]')
    assert row["data-outcome"] == "partial"
    cells = [td.get_text(" ", strip=True) for td in row.select("table.arrays td")]
    assert cells[:3] == ["W3.g", "(2, 3) / (3, 2)", "float64 / float64"]
    assert not soup.find_all(["script", "link", "img"])  # self-contained: nothing to fetch


def test_html_escapes_what_students_print(grade_p1):
    text = mutate(reference_text(HW3, FILE), "    V1 = W1 @ X\n", "    print('<script>alert(1)</script>')\n    V1 = W1 @ X\n")
    soup = BeautifulSoup(render_html(grade_p1({FILE: text})), "html.parser")
    assert not soup.find_all("script")
    assert "<script>alert(1)</script>" in soup.select_one('tr[data-check="p1.forward.handout_seed"] pre').get_text()


def test_html_report_lists_the_sandbox_protections(faulty_grade):
    soup = BeautifulSoup(render_html(faulty_grade), "html.parser")
    rows = {r["data-protection"]: r.select("td")[1].get_text() for r in soup.select("tr[data-protection]")}
    assert {"unprivileged user", "no network", "memory limit", "CPU time limit", "output size"} <= set(rows)
    assert set(rows.values()) <= {"on", "off"}


def test_extra_credit_counts_on_top_of_the_maximum():
    from autograder.results import CheckResult, Feedback, ProblemResult
    from autograder.writers import gradescope_results

    def result(cid, score, points, extra):
        return CheckResult(id=cid, problem="b1", part="f" if extra else "a", claim="c", visibility="visible",
                           outcome="passed", score=score, max_score=points, feedback=Feedback(summary="ok"),
                           extra_credit=extra)

    g = Grade(assignment="x", title="t", submission="s", problems=[ProblemResult(
        id="b1", title="B1", files=("hw4_b1.py",),
        checks=[result("b1.a.one", 30.0, 30.0, False), result("b1.f.extra", 5.0, 5.0, True)])])
    assert (g.score, g.max_score, g.full_marks) == (35.0, 30.0, True)
    tests = gradescope_results(g)["tests"]
    assert [t["max_score"] for t in tests] == [30.0, 0.0] and "(extra credit)" in tests[1]["name"]

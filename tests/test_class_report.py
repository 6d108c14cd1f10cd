"""The class report an instructor reads after a batch: what it counts, and that student text in it
stays text."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from conftest import HW3, mutate, reference_text

from autograder.results import Outcome
from autograder.writers.class_report import render_class_report

FILE = "hw3_p1.py"
SIGN_FAULT = ('g["V5"] = -g["D"]', 'g["V5"] = g["D"]')
HOSTILE = "</td><script>alert(1)</script>"


@pytest.fixture(scope="module")
def grades(grade_p1):
    reference = reference_text(HW3, FILE)
    faulty = mutate(reference, *SIGN_FAULT)
    raising = mutate(reference, "    V1 = W1 @ X\n", f"    raise ValueError({HOSTILE!r})\n")
    graded = {name: grade_p1({FILE: text}) for name, text in
              {"ada": reference, "bob": faulty, "cy": faulty, "dee": raising}.items()}
    # A worker stopped by its time limit, as the sandbox reports it (the sandbox's own tests show how).
    stopped = graded["dee"].checks[0].model_copy(update={"outcome": Outcome.timeout})
    graded["dee"].problems[0].checks[0] = stopped
    return graded


@pytest.fixture(scope="module")
def page(grades):
    return BeautifulSoup(render_class_report("Homework 3", HW3, grades), "html.parser")


def test_the_page_carries_its_plot_inline_and_loads_nothing(page):
    assert page.select_one("#distribution svg") is not None
    assert not page.select("[src], link[href], script")


def test_problems_and_checks_are_counted_over_the_class(page, grades):
    mean = sum(g.problems[0].score for g in grades.values()) / 4
    assert [td.get_text() for td in page.select("#problems tbody td")] == ["p1", f"{mean:.2f}", "4.5"]
    rates = {tr["data-check"]: tr.select("td")[-1].get_text() for tr in page.select("#checks tbody tr")}
    assert rates["p1.backward.handout_seed"] == "2 / 4 (50%)"  # bob and cy: the sign; dee's forward is apart
    assert rates["p1.make_data.handout_draws"] == "3 / 4 (75%)"  # dee's timed out
    assert rates["p1.autograd.handout_seed"] == "4 / 4 (100%)"
    shown = [float(rate.split("(")[1].rstrip("%)")) for rate in rates.values()]
    assert shown == sorted(shown) and shown[0] < shown[-1]  # least passed first


def test_the_same_mistake_is_counted_once_per_student(page):
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in page.select("#failures tbody tr")]
    sign = [r for r in rows if r[1] == "p1.backward.handout_seed" and "V5.g" in r[2]]
    assert sign and sign[0][0] == "2"


def test_submissions_stopped_or_crashed_are_listed_and_student_text_stays_text(page):
    troubled = page.select("#troubled li")
    assert [li.code.get_text() for li in troubled] == ["dee"]
    assert "Timed out: 1 check" in troubled[0].get_text()
    assert HOSTILE in page.select_one("#failures").get_text()  # shown as the student wrote it...
    assert not page.select("script")  # ...and never run

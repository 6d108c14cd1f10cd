"""The student's report and the class report, rendered by a real browser (headless Chromium, from
Debian's package, driven by Playwright): they load with no network request, every table and figure
is visible, student text stays text, and the layout matches a screenshot kept in tests/screenshots/.

After a deliberate change of a report's layout, write the screenshots again and look at them:

    AUTOGRADER_UPDATE_SCREENSHOTS=1 python -m pytest tests/test_reports_in_browser.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import HW3, mutate, reference_text

from autograder import figures
from autograder.results import Timing
from autograder.writers import render_html
from autograder.writers.class_report import render_class_report

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).parent / "screenshots"
FILE = "hw3_p1.py"
HOSTILE = "<img src=x onerror=\"window.pwned=1\"><script>window.pwned=1</script>"
WIDTH, HEIGHT = 1000, 900
MOST_DIFFERENT = 0.01
"""The fraction of pixels that may differ from the kept screenshot: anti-aliasing, never a layout."""


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("headless Chromium is not installed: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # As root Chromium refuses its own sandbox; the page is our own report, read from disk.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def steady(grade):
    """The same page on every run: no temporary path, no timing."""
    checks = {c.id: c.model_copy(update={"seconds": 0.25, "peak_mb": 0.0, "debug": ""}) for c in grade.checks}
    problems = [p.model_copy(update={"checks": [checks[c.id] for c in p.checks]}) for p in grade.problems]
    return grade.model_copy(update={"submission": "alice", "problems": problems, "timing": Timing(),
                                    "protections": [p for p in grade.protections if p.name != "unprivileged user"]})


@pytest.fixture(scope="module")
def grades(grade_p1):
    reference = reference_text(HW3, FILE)
    faulty = mutate(reference, 'g["V5"] = -g["D"]', 'g["V5"] = g["D"]')
    hostile = mutate(reference, "    V1 = W1 @ X\n", f"    print({HOSTILE!r})\n    raise ValueError({HOSTILE!r})\n")
    return {name: steady(grade_p1({FILE: text})) for name, text in
            {"ada": reference, "bob": faulty, "cy": faulty, "dee": hostile}.items()}


def load(browser, html: str, tmp_path: Path):
    """The page as the browser shows it, and every request it made beyond its own file."""
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("networkidle")
    return page, [url for url in requests if url != path.as_uri()]


def assert_looks_as_kept(page, name: str) -> None:
    import io

    from PIL import Image

    shot = SCREENSHOTS / f"{name}.png"
    taken = page.screenshot(full_page=True)
    if os.environ.get("AUTOGRADER_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(exist_ok=True)
        shot.write_bytes(taken)
    now = np.asarray(Image.open(io.BytesIO(taken)).convert("RGB"), dtype=np.int16)
    kept = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    assert now.shape == kept.shape, f"the page is {now.shape[:2]} pixels, it was {kept.shape[:2]}: the layout moved"
    different = float(np.mean(np.abs(now - kept).max(axis=2) > 48))
    assert different <= MOST_DIFFERENT, f"{different:.1%} of the pixels differ from {shot}"


def assert_everything_shows(page) -> None:
    """Every table and figure is on the page, drawn, once each folded part is opened as a reader would."""
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    tables = page.locator("table")
    assert tables.count() > 0
    assert all(tables.nth(i).is_visible() for i in range(tables.count()))
    for i in range(page.locator("svg").count()):
        box = page.locator("svg").nth(i).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50


def test_the_student_report_loads_alone_shows_everything_and_runs_no_student_text(browser, grades, tmp_path):
    page, requests = load(browser, render_html(grades["dee"]), tmp_path)
    assert requests == []
    assert_looks_as_kept(page, "student_report")
    assert_everything_shows(page)
    assert page.evaluate("window.pwned") is None
    assert HOSTILE in page.inner_text("body")


def test_the_class_report_loads_alone_shows_everything_and_runs_no_student_text(browser, grades, tmp_path):
    page, requests = load(browser, render_class_report("Homework 3", HW3, grades), tmp_path)
    assert requests == []
    assert_looks_as_kept(page, "class_report")
    assert_everything_shows(page)
    assert page.locator("#distribution svg").is_visible()
    assert page.evaluate("window.pwned") is None


def test_pictures_are_drawn_from_the_page_itself_enlarged_and_sharp(browser, grades, tmp_path):
    """A check's figures: each PNG inlined (no request), drawn at twice its size, pixels kept square."""
    digits = np.linspace(0, 1, 4 * 28 * 28).reshape(4, 28, 28)
    pictures = (figures.image_grid("Pictures", [("images", digits)], shape=(28, 28), captions={0: [HOSTILE] * 4})
                + figures.table("Words", {"Topic": range(2), "Words": [["a", HOSTILE], ["c"]]}))
    check = grades["ada"].problems[0].checks[0]
    shown = check.model_copy(update={"feedback": check.feedback.model_copy(update={"figures": pictures})})
    problem = grades["ada"].problems[0].model_copy(update={"checks": [shown, *grades["ada"].problems[0].checks[1:]]})
    page, requests = load(browser, render_html(grades["ada"].model_copy(update={"problems": [problem]})), tmp_path)
    assert requests == []
    drawn = page.eval_on_selector_all("figure img", "images => images.map(i => [i.complete, i.naturalWidth, "
                                      "i.getBoundingClientRect().width, getComputedStyle(i).imageRendering])")
    assert drawn == [[True, 28, 56, "pixelated"]] * 4
    assert_everything_shows(page)
    assert page.evaluate("window.pwned") is None
    assert page.locator("figure").nth(1).inner_text().count(HOSTILE) == 1


def test_the_widest_picture_scrolls_inside_its_figure_not_the_page(browser, grades, tmp_path):
    """16 tiles a row (the most a grid holds), each a digit drawn at twice its size: the grid scrolls in
    its figure, and the check's points stay on the page."""
    wide = figures.image_grid("Wide", [("row", np.linspace(0, 1, 16 * 28 * 28).reshape(16, 28, 28))], shape=(28, 28),
                              captions={0: [f"{i}: read {i}" for i in range(16)]})
    check = grades["ada"].problems[0].checks[0]
    shown = check.model_copy(update={"feedback": check.feedback.model_copy(update={"figures": wide})})
    problem = grades["ada"].problems[0].model_copy(update={"checks": [shown, *grades["ada"].problems[0].checks[1:]]})
    page, _ = load(browser, render_html(grades["ada"].model_copy(update={"problems": [problem]})), tmp_path)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    figure = page.eval_on_selector("figure", "f => [f.scrollWidth, f.clientWidth]")
    assert figure[0] > figure[1]  # the grid is wider than its figure, which scrolls
    points = page.locator(f"tr[data-check='{check.id}'] td").last.bounding_box()
    assert points["x"] + points["width"] <= WIDTH

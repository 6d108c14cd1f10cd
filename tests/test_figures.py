"""Pictures in the student's report (autograder/figures.py): drawn from numbers in the judge, left out
when the numbers are not a picture, small, shown only for visible checks, and their text escaped;
the Gradescope and JSON outputs carry none of their bytes."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pydantic
import pytest
from bs4 import BeautifulSoup
from conftest import PNG_SIGNATURE
from PIL import Image

from autograder import figures
from autograder.model import Check, Verdict, Visibility
from autograder.results import MAX_TILES, Grade, ProblemResult, Tile
from autograder.runner import _judge
from autograder.session import Ran
from autograder.writers import gradescope_results, render_html, write_summary

HOSTILE = "<img src=x onerror=alert(1)>"


def decoded(tile: Tile) -> Image.Image:
    png = base64.b64decode(tile.png, validate=True)
    assert png.startswith(PNG_SIGNATURE)
    return Image.open(io.BytesIO(png))


def test_a_grid_draws_grey_and_colour_images_enlarged_by_a_whole_factor():
    grey = np.linspace(0, 1, 3 * 28 * 28).reshape(3, 784)  # flattened, as an autoencoder returns them
    colour = np.zeros((2, 3, 32, 32), dtype=np.float32)
    colour[:, 0] = 1.0  # red
    (grid,) = figures.image_grid("t", [("flat", grey)], shape=(28, 28))
    (tiles,) = [row.tiles for row in grid.rows]
    assert [(decoded(t).size, decoded(t).mode, t.width) for t in tiles] == [((28, 28), "L", 56)] * 3
    (grid,) = figures.image_grid("t", [("red", colour)], shape=(3, 32, 32), channels_first=True,
                                 value_range=(-1.0, 1.0))
    assert np.asarray(decoded(grid.rows[0].tiles[0]))[0, 0].tolist() == [255, 128, 128]
    assert grid.rows[0].tiles[0].width == 64


def test_a_grid_clips_values_outside_its_range_and_draws_at_most_a_row_of_tiles():
    (grid,) = figures.image_grid("t", [("many", np.full((40, 8, 8), 7.0))], shape=(8, 8),
                                 captions={0: ["a caption far longer than a tile is wide, cut short"] * 40})
    tiles = grid.rows[0].tiles
    assert len(tiles) == MAX_TILES and (np.asarray(decoded(tiles[0])) == 255).all()
    assert len(tiles[0].caption) == figures.CAPTION_CHARS and tiles[0].caption.endswith("…")


@pytest.mark.parametrize("images", [
    None, "pixels", [[1, 2], [3, 4]], np.array(["a"] * 784), np.zeros(0), np.zeros(785), np.full(784, np.nan),
    np.full((2, 784), np.inf), np.zeros(784, dtype=np.complex64)], ids=repr)
def test_numbers_that_are_not_a_picture_give_no_figure(images):
    assert figures.image_grid("t", [("fine", np.zeros((2, 784))), ("bad", images)], shape=(28, 28)) == ()


def test_a_figure_stays_small_whatever_the_numbers():
    noise = np.random.default_rng(0).random((3, 4, 3, 32, 32))  # A4's grid, as noisy as a student can make it
    (grid,) = figures.image_grid("t", list(zip("abc", noise)), shape=(3, 32, 32), channels_first=True)
    assert sum(len(t.png) for row in grid.rows for t in row.tiles) < 64 << 10
    most = np.random.default_rng(0).random((4, MAX_TILES, 64, 64, 3))  # the largest grid, of noise
    assert figures.image_grid("t", list(zip("abcd", most)), shape=(64, 64, 3)) == ()


def test_a_judge_asking_for_an_impossible_shape_is_told_at_once():
    with pytest.raises(ValueError, match="draws"):
        figures.image_grid("t", [("big", np.zeros((1, 100, 100)))], shape=(100, 100))


def test_a_table_is_given_by_columns_and_kept_small():
    (table,) = figures.table("Top words", {"Topic": range(40), "Words": [["a", "b"], ["c" * 500]]})
    assert table.header == ("Topic", "Words")
    assert len(table.rows) == 30 and table.rows[0] == ("0", "a, b") and table.rows[2] == ("2", "")
    assert len(table.rows[1][1]) == figures.CELL_CHARS
    assert figures.table("t", {"Words": 5}) == () and figures.table("t", {"Words": "abc"}) == ()


def test_a_tile_holds_base64_alone():
    with pytest.raises(pydantic.ValidationError):
        Tile(png='" onerror="alert(1)', width=8, height=8)


def picture() -> tuple:
    return figures.image_grid(HOSTILE, [(HOSTILE, np.zeros((2, 8, 8)))], shape=(8, 8), captions={0: [HOSTILE]}) \
        + figures.table(HOSTILE, {HOSTILE: [HOSTILE, [HOSTILE, "b"]]})


def graded_with_figures(visibility: Visibility = Visibility.visible) -> Grade:
    """A check whose judge attaches a picture and a table, judged by the runner as `visibility` declares."""
    check = Check(id="p1.pictures.drawn", claim="draws", points=1, part="a", visibility=visibility,
                  run=lambda subject: {}, judge=lambda got, expected, check: Verdict.passed("ok", figures=picture()))
    result = _judge(check, lambda: check.judge({}, {}, check), Ran({}, 0.0, ""), None)
    return Grade(assignment="a", title="A", submission="s",
                 problems=[ProblemResult(id="p1", title="P", files=("p.py",), checks=[result])])


@pytest.mark.parametrize("visibility", list(Visibility))
def test_only_a_visible_checks_figures_reach_the_report(visibility):
    g = graded_with_figures(visibility)
    shown = visibility is Visibility.visible
    assert len(g.checks[0].feedback.figures) == (2 if shown else 0)
    page = BeautifulSoup(render_html(g), "html.parser")
    assert len(page.find_all("figure")) == (2 if shown else 0) and bool(page.find_all("img")) == shown


def test_figure_text_stays_text_in_the_report():
    page = BeautifulSoup(render_html(graded_with_figures()), "html.parser")
    images = page.find_all("img")
    assert len(images) == 2 and all(i["src"].startswith("data:image/png;base64,") and i["alt"] == HOSTILE
                                     for i in images)
    assert not page.find_all("script")
    assert [f.figcaption.get_text() for f in page.find_all("figure")] == [HOSTILE, HOSTILE]
    assert page.select_one("table.image-grid th").get_text() == HOSTILE
    assert page.select_one(".tile-caption").get_text() == HOSTILE
    assert [td.get_text() for td in page.select("table.figure-table td")] == [HOSTILE, f"{HOSTILE}, b"]


def test_gradescope_and_summary_json_carry_no_picture(tmp_path):
    g = graded_with_figures()
    png = g.checks[0].feedback.figures[0].rows[0].tiles[0].png
    results = json.dumps(gradescope_results(g))
    write_summary(g, tmp_path / "summary.json")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert png not in results and "figures" not in summary["problems"][0]["checks"][0]["feedback"]
    assert Grade.model_validate(summary).checks[0].feedback.figures == ()
    # A Grade sent whole (a cluster's task) keeps them, for the report written where it arrives.
    assert Grade.model_validate_json(g.model_dump_json()) == g



def test_a_heat_map_draws_a_pixel_a_cell_enlarged_above_its_numbers():
    counts = np.arange(100).reshape(10, 10)
    grid, numbers = figures.heat_map("Counts", counts, [f"digit {d}" for d in range(10)], [f"c{j}" for j in range(10)])
    ((tile,),) = [row.tiles for row in grid.rows]
    image = decoded(tile)
    assert (image.size, image.mode, tile.width, tile.height) == ((10, 10), "RGB", 160, 160)
    assert image.getpixel((0, 0)) == figures.HEAT_LOW and image.getpixel((9, 9)) == figures.HEAT_HIGH
    assert tile.caption == "0 (white) to 99"
    assert numbers.header == ("", *(f"c{j}" for j in range(10)))
    assert numbers.rows[1] == ("digit 1", *(str(v) for v in range(10, 20)))
    (_, fractions) = figures.heat_map("t", np.array([[0.25, 1 / 3]]), ["a"], ["x", "y"])
    assert fractions.rows == (("a", "0.25", "0.3333"),)


@pytest.mark.parametrize("matrix", [
    None, [[1, 2], [3, 4]], np.zeros((2, 3)), np.array([["a", "b"], ["c", "d"]]), np.full((2, 2), np.nan),
    np.zeros((0, 0))], ids=repr)
def test_a_heat_map_of_numbers_that_are_not_its_table_is_left_out(matrix):
    assert figures.heat_map("t", matrix, ["a", "b"], ["x", "y"]) == ()


def test_a_heat_maps_labels_stay_text_in_the_report():
    heat = figures.heat_map(HOSTILE, np.eye(2), [HOSTILE, "b"], [HOSTILE, "y"])
    check = Check(id="p1.pictures.heat", claim="draws", points=1, part="a",
                  run=lambda subject: {}, judge=lambda got, expected, check: Verdict.passed("ok", figures=heat))
    result = _judge(check, lambda: check.judge({}, {}, check), Ran({}, 0.0, ""), None)
    g = Grade(assignment="a", title="A", submission="s",
              problems=[ProblemResult(id="p1", title="P", files=("p.py",), checks=[result])])
    page = BeautifulSoup(render_html(g), "html.parser")
    assert not page.find_all("script") and len(page.find_all("img")) == 1
    assert [f.figcaption.get_text() for f in page.find_all("figure")] == [HOSTILE, HOSTILE]
    assert [th.get_text() for th in page.select("table.figure-table th")] == ["", HOSTILE, "y"]
    assert page.select_one("table.figure-table td").get_text() == HOSTILE

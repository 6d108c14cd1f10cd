"""Text a student controls is escaped wherever it lands: Gradescope's markdown, the HTML report,
the terminal, the JSON files.

Most tests are attacks: a Grade whose every student-shaped string (what the code printed, the
exception message quoted in feedback, a source line, a file name of the upload, the submission's
path) carries hostile text, written out by the real writers.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import click
import jsonschema
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from autograder import cli
from autograder.results import CheckResult, Feedback, Grade, ProblemResult
from autograder.text import markdown_code_block, markdown_text, printable, printable_data
from autograder.writers import gradescope_results, render_html, write_gradescope, write_summary
from conftest import HW3, mutate, reference_text
from markdown_view import RENDERER, elements, shown_text, tokens

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope_results.schema.json").read_text())

# Closes the output's code fence and claims full marks; links, an image, raw HTML, a table.
MARKDOWN_ATTACK = ("```\n# All checks passed\n\n[click](http://evil) ![x](http://evil/x.png) "
                   "<img src=x onerror=alert(1)> <script>alert(1)</script>\n\n| a | b |\n|---|---|\n")
# A colour, a cleared screen, an OSC-8 hyperlink, a bell, a backspace, a line printed over, a bidi override.
TERMINAL_ATTACK = ("\x1b[31mred\x1b[0m\x1b[2J \x1b]8;;http://evil\x1b\\text\x1b]8;;\x1b\\ \x07\x08 "
                   "0 points\rfull marks \u202eevil\u202c")
HOSTILE = MARKDOWN_ATTACK + TERMINAL_ATTACK + " \udcff"  # and a non-UTF-8 file name's surrogate

# What must never reach a reader: C0 controls but tab and newline, DEL, C1 controls, bidi controls, surrogates.
FORBIDDEN = {chr(c) for c in [*range(0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0), *range(0xd800, 0xe000)]} | set(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Elements our templates never make (they make bold labels, bullet lists, an emphasised "Hint:", one fence).
FOREIGN_ELEMENTS = {"heading_open", "link_open", "image", "html_block", "html_inline", "table_open",
                    "blockquote_open", "code_block", "ordered_list_open", "hr", "s_open"}


def clean(text: str) -> bool:
    return not FORBIDDEN & set(text)


def strings_in(data) -> list[str]:
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in [k, *strings_in(v)]]
    if isinstance(data, list):
        return [s for v in data for s in strings_in(v)]
    return [data] if isinstance(data, str) else []


def hostile_grade(text: str = HOSTILE, harness_failed: bool = False) -> Grade:
    """A grade whose every student-shaped field carries `text`."""
    check = CheckResult(
        id="p1.backward.handout_seed", problem="p1", part="b", claim="backward gives every node's gradient",
        visibility="visible", outcome="error", score=0.0, max_score=1.5,
        feedback=Feedback(summary=f"`backward` in hw3_p1.py raised ValueError: {text}",
                          details=(f"hw3_p1.py, line 12: raise ValueError({text!r})",), hint=text),
        student_output=text, debug=f"Traceback (most recent call last):\nValueError: {text}")
    return Grade(assignment=HW3, title="HW3", submission=f"/uploads/{text}",
                 problems=[ProblemResult(id="p1", title="Backpropagation", files=("hw3_p1.py",), checks=[check])],
                 messages=[f"hw3_p1.py was found twice: in {text}/ and in ./"],
                 harness_error=f"Traceback ...\nValueError: {text}" if harness_failed else None)


# --- the functions themselves -------------------------------------------------------------------

@pytest.mark.parametrize(("attack", "shown"), [
    ("\x1b[31mred\x1b[0m", "red"),
    ("\x1b[2J\x1b[Hclear", "clear"),
    ("\x1b]8;;http://evil\x1b\\text\x1b]8;;\x1b\\", "text"),
    ("\x1b]0;window title\x07rest", "rest"),
    ("\x9b31mC1 colour", "C1 colour"),
    ("ding\x07\x08\x7f\x85", "ding"),
    ("0 points\rfull marks", "0 points\nfull marks"),  # both shown, neither hidden
    ("windows\r\nline", "windows\nline"),
    ("abc\u202edef\u2066", "abcdef"),
    ("name\udcff.py", "name\ufffd.py"),
    ("\x1b]8;;unterminated", "8;;unterminated"),  # the ESC goes; the rest is only text
    ("tab\tand\nnewline, ünïcødé, 数学 ∑", "tab\tand\nnewline, ünïcødé, 数学 ∑"),
])
def test_printable_removes_what_a_terminal_obeys(attack, shown):
    assert printable(attack) == shown


def test_printable_data_cleans_every_string_of_json_like_data():
    assert printable_data({"a\x1b": ["x\x07", 1, None, {"b": ("y\udcff",)}]}) == {"a": ["x", 1, None, {"b": ["y\ufffd"]}]}


# Text biased toward what markdown and terminals interpret, mixed with any character at all.
MARKUP = ["```", "~~~", "#", "# ", "\n", "\n\n", "    ", "\t", "  \n", "- ", "* ", "+ ", "1. ", "1) ", "> ", "<",
          "<b>", "</b>", "<!--", "&amp;", "&#10;", "\\", "[a](b)", "![", "]", "*", "_", "`", "|", "---", "===",
          "\x1b", "\x1b[31m", "\x1b]8;;http://x\x1b\\", "\r", "\x07", "\u202e", "\udcff", "\x85", "\xa0", "\u2028",
          "http://x.y", "www.x.com", "a@b.co", "$$", "~~"]
texts = st.lists(st.one_of(st.characters(exclude_categories=()), st.sampled_from(MARKUP)), max_size=30).map("".join)
ordinary = st.text(st.characters(exclude_categories=("Cc", "Cs")).filter(
    lambda c: unicodedata.bidirectional(c) not in ("LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI")
    and c not in "\u061c\u200e\u200f") | st.sampled_from("\t\n"))


@given(texts)
def test_printable_leaves_no_control_character_and_is_idempotent(text):
    once = printable(text)
    assert clean(once) and printable(once) == once


@given(ordinary)
def test_printable_leaves_ordinary_text_as_it_is(text):
    assert printable(text) == text


@given(texts)
def test_markdown_text_renders_as_exactly_its_text_in_one_paragraph(text):
    blocks = RENDERER.parse(markdown_text(text))
    if not printable(text):
        assert blocks == []
        return
    assert [b.type for b in blocks] == ["paragraph_open", "inline", "paragraph_close"]
    assert {t.type for t in blocks[1].children} <= {"text", "softbreak"}
    assert shown_text(markdown_text(text)) == printable(text)


@given(texts)
def test_markdown_code_block_renders_as_one_block_of_exactly_its_text(text):
    [block] = RENDERER.parse(markdown_code_block(text))
    body = printable(text)
    assert (block.type, block.info) == ("fence", "")
    assert block.content == (body if body.endswith("\n") or not body else body + "\n")


# --- where the text lands -----------------------------------------------------------------------

def markdown_outputs(results: dict) -> list[str]:
    return [results["output"], *(t["output"] for t in results["tests"] if t["output_format"] == "md")]


def test_results_json_shows_hostile_text_as_text(tmp_path):
    write_gradescope(hostile_grade(harness_failed=True), tmp_path / "results.json")
    results = json.loads((tmp_path / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    assert all(clean(s) for s in strings_in(results))
    benign = gradescope_results(hostile_grade("plain words", harness_failed=True))
    for output, plain in zip(markdown_outputs(results), markdown_outputs(benign), strict=True):
        assert elements(output) == elements(plain), output  # the hostile text added no element
    check = results["tests"][0]
    blocks = [t for t in tokens(check["output"]) if t.type == "fence"]
    assert [b.content for b in blocks] == [printable(HOSTILE) + "\n"]  # one fence: all the student printed
    shown = shown_text(check["output"])
    assert shown.startswith(f"Error `backward` in hw3_p1.py raised ValueError: {printable(HOSTILE)}")
    assert "strong_open" in elements(check["output"])  # our own markup still renders
    assert f"in {printable(HOSTILE)}/ and in ./" in shown_text(results["output"])


def test_html_report_shows_hostile_text_as_text():
    html = render_html(hostile_grade())
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all(["script", "img", "iframe"])
    assert all(a["href"].startswith("#") for a in soup.find_all("a"))
    assert clean(html)
    pre = soup.select_one('tr[data-check="p1.backward.handout_seed"] pre').get_text()
    assert pre == printable(HOSTILE) and "<script>alert(1)</script>" in pre
    assert "http://evil" not in soup.select_one("p.meta").get_text()  # the OSC-8 link's address is gone


def test_summary_json_is_valid_json_with_every_string_printable(tmp_path):
    write_summary(hostile_grade(harness_failed=True), tmp_path / "summary.json")

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    summary = json.loads((tmp_path / "summary.json").read_bytes().decode("utf-8"), parse_constant=refuse)
    assert all(clean(s) for s in strings_in(summary))
    assert summary["submission"] == f"/uploads/{printable(HOSTILE)}"


def terminal_output(run) -> str:
    """What `run` echoes, stdout and stderr, with colours on as on a real terminal."""
    with CliRunner().isolation(color=True) as (stdout, stderr, _):
        run()
    return (stdout.getvalue() + stderr.getvalue()).decode("utf-8")


def test_explain_sends_no_escape_sequence_of_the_students_to_the_terminal():
    grade = hostile_grade(harness_failed=True)
    shown = terminal_output(lambda: cli._explain(grade))
    ours = click.style("p1.backward.handout_seed", bold=True)
    assert shown.count(ours) == 1 and clean(shown.replace(ours, ""))
    assert f"raised ValueError: {printable(HOSTILE)}" in shown


def test_progress_and_batch_lines_print_names_without_escape_sequences(monkeypatch, tmp_path):
    from autograder import batch

    check = hostile_grade().checks[0].model_copy(update={"id": f"p1.{TERMINAL_ATTACK}"})
    shown = terminal_output(lambda: cli._progress(1)(check))
    assert clean(shown.replace(click.style("error   ", fg="red"), "")) and "full marks" in shown

    def grade_class(folder, assignment, config, out, progress, **parallel):
        progress(f"student {TERMINAL_ATTACK}\udcff", hostile_grade(), True)
        return batch.ClassSummary(assignment=HW3, submissions=1, max_score=1.5, mean=0, median=0, full_marks=0,
                                  harness_errors=[], check_pass_rates={})

    monkeypatch.setattr(batch, "grade_class", grade_class)
    done = CliRunner().invoke(cli.main, ["batch", str(tmp_path), "-a", HW3, "-o", str(tmp_path / "out")], color=True)
    assert done.exit_code == 0, done.output
    assert clean(done.output) and "student red text" in done.output


def test_batch_writes_its_gradebook_and_class_summary_for_a_non_utf8_student_name(monkeypatch, tmp_path, p1_config):
    from autograder import batch
    from autograder.assignments import load_assignment

    (tmp_path / "class").mkdir()
    os.mkdir(os.fsencode(tmp_path / "class") + b"/stud\xffent \x1b[2J")  # a Latin-1 name, and an escape sequence
    monkeypatch.setattr(batch, "grade_safely", lambda *args: hostile_grade(harness_failed=True))
    batch.grade_class(tmp_path / "class", load_assignment(HW3), p1_config(), tmp_path / "out")
    gradebook = (tmp_path / "out" / "gradebook.csv").read_bytes().decode("utf-8")
    assert "stud_ent___2J,0.0,1.5" in gradebook and clean(gradebook.replace("\r\n", "\n"))  # CSV ends rows so
    summary = json.loads((tmp_path / "out" / "class_summary.json").read_bytes().decode("utf-8"))
    assert summary["harness_errors"] == ["stud_ent___2J"]


def test_a_submission_that_prints_and_raises_hostile_text_gets_escaped_results(grade_p1, tmp_path):
    """End to end: the student's own code prints and raises it, the real engine grades it."""
    attack = HOSTILE.replace("\udcff", "")  # the engine's own transport is not under test here
    text = mutate(reference_text(HW3, "hw3_p1.py"), "    V1 = W1 @ X\n", f"    print({attack!r})\n    V1 = W1 @ X\n")
    text = mutate(text, '    g = {"z": 1.0}\n', f'    raise ValueError({attack!r})\n')
    write_gradescope(grade_p1({"hw3_p1.py": text}), tmp_path / "results.json")
    results = json.loads((tmp_path / "results.json").read_text())
    assert all(clean(s) for s in strings_in(results))
    by_name = {t["name"].rsplit("[", 1)[1].rstrip("]"): t for t in results["tests"] if t["output_format"] == "md"}
    forward, backward = by_name["p1.forward.handout_seed"], by_name["p1.backward.handout_seed"]
    for t in (forward, backward):
        assert not FOREIGN_ELEMENTS & set(elements(t["output"])), t["output"]
    assert [b.content for b in tokens(forward["output"]) if b.type == "fence"] == [printable(attack) + "\n"]
    assert f"raised ValueError: {printable(attack)}" in shown_text(backward["output"])

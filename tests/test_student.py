"""The one wrapper for calls into the student's objects (`Subject.invoke`), in process: a call the
student's signature refuses, or one that fails before reaching the student's code, names the
student's function or class; an exception raised in the student's code goes on unchanged."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import torch

from autograder.student import Subject, SubmissionError, returned_tuple

STUDENT = '''
import torch
from torch import nn


def scale(x, factor):
    return x * factor


def divide(x):
    return x / 0


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x, mask):
        return self.fc(x) * mask


class Bare(nn.Module):
    pass


class Optimizer:
    def step(self):
        pass
'''


@pytest.fixture
def subject(tmp_path, monkeypatch) -> tuple[Subject, object]:
    """The module imported as the worker imports it (registered in sys.modules)."""
    (tmp_path / "hw.py").write_text(STUDENT)
    spec = importlib.util.spec_from_file_location("hw", tmp_path / "hw.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "hw", module)
    spec.loader.exec_module(module)
    return Subject({"hw": module}, tmp_path), module


def test_a_signature_that_refuses_the_call_names_the_function(subject):
    s, hw = subject
    with pytest.raises(SubmissionError, match=r"^`scale` in hw.py cannot be called as the handout specifies "
                                              r"\(missing a required argument: 'factor'\)"):
        s.invoke(hw.scale, 2.0)
    assert s.invoke(hw.scale, 2.0, 3.0) == 6.0


def test_a_models_forward_is_checked_against_how_the_grader_calls_it(subject):
    s, hw = subject
    with pytest.raises(SubmissionError, match=r"^`Net.forward` in hw.py cannot be called as the handout specifies "
                                              r"\(missing a required argument: 'mask'\)"):
        s.invoke(hw.Net(), torch.zeros(3, 4))


def test_a_failure_before_the_students_code_runs_names_the_class(subject):
    s, hw = subject
    with pytest.raises(SubmissionError, match=r"^`Bare` in hw.py failed when the grader called it with \(a float32 "
                                              r"tensor of shape \(3, 4\)\): NotImplementedError: Module \[Bare\]"):
        s.invoke(hw.Bare(), torch.zeros(3, 4))


def test_an_exception_in_the_students_code_goes_on_unchanged(subject):
    s, hw = subject
    with pytest.raises(ZeroDivisionError):
        s.invoke(hw.divide, 1)


def test_a_missing_method_names_the_class(subject):
    s, hw = subject
    with pytest.raises(SubmissionError, match=r"^`Optimizer` in hw.py has no method `zero_grad\(\)`, which the "
                                              r"grader calls"):
        s.method(hw.Optimizer(), "zero_grad")
    assert s.invoke(s.method(hw.Optimizer(), "step")) is None


def test_a_trusted_half_may_read_only_the_data_sets_its_check_declares(tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "glove-6B-50d-10k").mkdir()
    subject = Subject({}, data_root=tmp_path, declared=("mnist", "glove"))
    assert subject.dataset("mnist") == tmp_path / "mnist"
    assert subject.dataset("glove") == tmp_path / "glove-6B-50d-10k"  # under any of its usual names
    with pytest.raises(RuntimeError, match=r"'cifar10' was read by a check whose `data` declares only "
                                           r"\['mnist', 'glove'\]: add 'cifar10' to its `data`"):
        subject.dataset("cifar10")


@pytest.mark.parametrize("value, got", [((1, 2), None), ([1, 2], None), ((1, 2, 3), "a tuple of length 3"),
                                        ({"centers": 1}, "a dict")])
def test_a_returned_tuple_of_the_wrong_kind_or_length_is_named(value, got):
    if got is None:
        assert returned_tuple(value, ("centers", "n_iter"), "lloyd(points, centers)") == (1, 2)
        return
    with pytest.raises(SubmissionError) as raised:
        returned_tuple(value, ("centers", "n_iter"), "lloyd(points, centers)")
    assert str(raised.value) == f"lloyd(points, centers) should return a tuple (centers, n_iter), but it returned {got}."

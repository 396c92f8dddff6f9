"""The exercise self-check: placeholder, right answer, named mistakes, general hint, type mismatch."""

import math

import pytest
import torch

from gan_course.teaching import exercises


def test_placeholder_prints_a_reminder_and_does_not_raise(capsys):
    check = exercises.checker(1.0, hint="look at section 2")
    assert check(...) is False
    assert "Replace the ..." in capsys.readouterr().out


def test_right_answer_within_tolerance(capsys):
    check = exercises.checker(math.log(2), hint="h")
    assert check(0.6931) is True
    assert "Correct" in capsys.readouterr().out


def test_named_mistake_gets_its_own_message(capsys):
    check = exercises.checker(0.085, hint="general", wrong=[(0.085 * math.log(2), "that is nats; bits were asked")])
    assert check(0.085 * math.log(2)) is False
    out = capsys.readouterr().out
    assert "nats" in out and "general" not in out


def test_predicate_mistake_and_general_hint(capsys):
    check = exercises.checker(3.0, hint="count the channels", wrong=[(lambda a: a < 0, "it cannot be negative")])
    assert check(-1) is False
    assert "negative" in capsys.readouterr().out
    assert check(5) is False
    assert "count the channels" in capsys.readouterr().out


def test_arrays_tensors_and_shapes():
    check = exercises.checker((2, 28, 28), hint="h")
    assert check((2, 28, 28)) and check(torch.Size([2, 28, 28])) and not check((28, 28, 2))
    check = exercises.checker(torch.tensor([0.5, 0.25]), hint="h")
    assert check([0.5, 0.25]) and not check([0.5, 0.25, 0.25])


def test_wrong_type_names_the_kind(capsys):
    check = exercises.checker(2.0, hint="h")
    assert check("two") is False
    assert "should be a number" in capsys.readouterr().out


def test_bool_and_string_answers():
    assert exercises.checker(True, hint="h")(True)
    assert not exercises.checker(True, hint="h")(1)
    assert exercises.checker("Reverse", hint="h")(" reverse ")


@pytest.mark.parametrize("kwargs", [{"hint": ""}, {"hint": "h", "rel_tol": -1}, {"hint": "h", "wrong": [(1.0,)]}])
def test_bad_checker_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        exercises.checker(1.0, **kwargs)

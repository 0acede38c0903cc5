"""Patterns people type (loss, score, curve upload) run in linear time: a pattern that makes a
backtracking engine run for hours answers at once, and what RE2 cannot do is refused clearly."""

import pytest
from django.core.exceptions import ValidationError

from assessments import services as assessment_services
from assessments.parsers.evaluation import extract_score
from assessments.parsers.training_log import parse_training_log
from workers import kinds

EVIL = r"loss: ((a+)+)b"  # exponential under backtracking: 2**n steps for n "a"s
LINE = "loss: " + "a" * 60  # ~1e18 steps for Python's re; never finishes


def test_an_exponential_pattern_is_linear_in_the_parsers():
    assert parse_training_log(LINE * 3, pattern=EVIL).steps == []
    assert extract_score(LINE, pattern=EVIL) is None


def test_the_same_pattern_still_finds_what_it_means():
    log = parse_training_log("step 1 loss: 2.5\nstep 2 loss: 2.25\n", pattern=r"loss: ([0-9.]+)")
    assert list(log.losses) == [2.5, 2.25]
    assert extract_score("accuracy=71.8\n", pattern=r"accuracy=(?P<score>[0-9.]+)") == 71.8


@pytest.mark.parametrize("pattern", [r"(a)\1 ([0-9.]+)", r"(?<=loss: )([0-9.]+)", r"([0-9.]+"])
def test_a_pattern_re2_cannot_run_is_refused_when_it_is_typed(pattern):
    with pytest.raises(ValidationError) as refused:
        kinds.get("evaluation").clean({"command": "eval", "score_pattern": pattern})
    assert "score_pattern" in refused.value.message_dict


@pytest.mark.django_db
def test_a_curve_upload_with_an_exponential_pattern_answers_at_once(consultant, engagement):
    with pytest.raises(ValidationError, match="No loss values"):
        assessment_services.check_add_curve_from_log(consultant, engagement, LINE.encode(), platform="gpu",
                                                     label="evil", pattern=EVIL)

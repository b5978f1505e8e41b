"""Fuzzing the entry points a program talks to: random option names, types and values given to the Python API and
to a live server. Each call either answers (one translation per input line) or refuses in one line (a ConfigError,
a 4xx JSON error); nothing else escapes, and the server keeps answering. A few hundred cases here; tools/fuzz.py
runs as many as asked."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seq2seq
from seq2seq.config import DecodingConfig
from seq2seq.errors import ConfigError

from conftest import post, running_server

KEYS = sorted(DecodingConfig.__dataclass_fields__)
LINES = ["a b c", "", "d e f g"]
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30), st.integers(-3, 12),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(-5, 5), st.text(max_size=8),
    st.sampled_from(["greedy", "beam", "sample", "true", "no", "5", "inf"]),
    st.lists(st.integers(0, 3), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1))
# option names: the decoding keys and any text, except translate()'s own positional parameters (Python itself
# refuses translate(lines, lines=...) with a TypeError before our code runs)
NAMES = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=6).filter(lambda k: k not in ("self", "lines")))
OPTIONS = st.dictionaries(NAMES, VALUES, max_size=4)
# SEQ2SEQ_FUZZ_EXAMPLES=10000 (tools/fuzz.py) runs more cases per test than the suite's few hundred in all
FUZZ = settings(max_examples=int(os.environ.get("SEQ2SEQ_FUZZ_EXAMPLES", "120")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def translations_or_one_line(model, lines, options) -> None:
    """What every API call must do: answer one line per input line (n_best lines with n_best > 1) or raise a
    one-line ConfigError."""
    try:
        out = model.translate(lines, **options)
    except ConfigError as err:
        assert "\n" not in str(err) and str(err), str(err)
        return
    n_best = options.get("n_best", 1)
    assert all(isinstance(line, str) for line in out)
    assert len(out) == len(lines) if n_best == 1 else len(out) >= len(lines)


@pytest.fixture(scope="module")
def model(trained):
    return seq2seq.load(trained)


@FUZZ
@given(options=OPTIONS)
def test_random_api_options_answer_or_refuse_in_one_line(model, options):
    translations_or_one_line(model, LINES, options)


@FUZZ
@given(lines=st.one_of(st.lists(st.one_of(st.text(max_size=30), st.none(), st.integers()), max_size=4),
                       st.text(max_size=10), st.none(), st.integers()))
def test_random_api_inputs_answer_or_refuse_in_one_line(model, lines):
    translations_or_one_line(model, lines, {})


@pytest.fixture(scope="module")
def server(trained):
    with running_server(trained, "max_lines=8", "max_line_chars=60", "batch_wait_ms=0") as srv:
        yield srv


@FUZZ
@given(text=st.one_of(st.lists(st.text(max_size=40), max_size=5), VALUES), options=OPTIONS)
def test_random_requests_get_an_answer_or_a_4xx_and_the_server_stays_up(server, text, options):
    status, answer = post(server.url, json.dumps({"text": text, **options}).encode("utf-8"))
    assert status == 200 or 400 <= status < 500, (status, answer)
    if status == 200:
        assert isinstance(answer["translations"], list)
    else:
        assert answer["error"] and "\n" not in answer["error"]
    with urllib.request.urlopen(server.url + "/health", timeout=30) as response:
        assert response.status == 200

"""seq2seq-serve: real HTTP requests on the loopback address, concurrent clients, bad requests."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

import seq2seq
from seq2seq.server import Batcher

from conftest import ROOT, post, running_server


@pytest.fixture(scope="module")
def server(trained):
    with running_server(trained, "max_lines=8", "max_line_chars=40", "batch_wait_ms=50") as srv:
        yield srv


def test_translations_equal_the_api_and_health_answers(server, trained):
    status, answer = post(server.url, {"text": ["a b c", "", "d e"]})
    assert status == 200 and answer["translations"] == seq2seq.load(trained).translate(["a b c", "", "d e"])
    for options in ({"n_best": 2}, {"n_best": 3, "output_scores": True}):
        lines = ["a b c", "", "d e"]  # an empty line has one n-best line, not n_best
        status, answer = post(server.url, {"text": lines, "strategy": "beam", "beam_size": 3, **options})
        assert status == 200
        assert answer["translations"] == seq2seq.load(trained).translate(lines, strategy="beam", beam_size=3,
                                                                         **options)
    with urllib.request.urlopen(server.url + "/health", timeout=10) as response:
        assert response.status == 200 and json.loads(response.read())["status"] == "ok"


def test_concurrent_clients_are_batched_and_each_gets_its_own_lines(server, trained):
    model = seq2seq.load(trained)
    requests = [[f"{chr(97 + i % 8)} {chr(98 + i % 7)} c{'' if i % 2 else ' d'}"] * (1 + i % 3) for i in range(24)]
    before = server.batcher.batches
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda lines: post(server.url, {"text": lines}), requests))
    for lines, (status, answer) in zip(requests, answers):
        assert status == 200 and answer["translations"] == model.translate(lines)
    assert server.batcher.batches - before < len(requests)  # some requests shared a batch
    beams = [[f"{chr(97 + i)} b", "", "c a"][: 1 + i % 3] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:  # n-best requests batched together keep their own numbering
        answers = list(pool.map(lambda lines: post(server.url, {"text": lines, "strategy": "beam", "n_best": 2}),
                                beams))
    for lines, (status, answer) in zip(beams, answers):
        assert status == 200 and answer["translations"] == model.translate(lines, strategy="beam", n_best=2)


@pytest.mark.parametrize("body, status, needle", [
    (b"not json", 400, "the body is not JSON"),
    ({"lines": ["a"]}, 400, 'expected a JSON object {"text"'),
    ({"text": "a b"}, 400, '"text" must be a list of strings'),
    ({"text": ["a", 3]}, 400, '"text" must be a list of strings'),
    ({"text": ["a"] * 9}, 413, "9 lines in one request; the limit is max_lines=8"),
    ({"text": ["a " * 30]}, 413, "line 1 has 60 characters; the limit is max_line_chars=40"),
    ({"text": ["a\nb"]}, 400, "a line contains a line break"),
    ({"text": ["a"], "beam_size": 0, "strategy": "beam"}, 400, "decoding.beam_size: must be in [1,"),
    # once 500s: a value of the wrong type or far out of range, a lone surrogate
    ({"text": ["a"], "beam_size": 2.5, "strategy": "beam"}, 400, "decoding.beam_size: must be an integer"),
    ({"text": ["a"], "beam_size": 10**30, "strategy": "beam"}, 400, "decoding.beam_size: must be in [1,"),
    ({"text": ["a"], "seed": "x", "strategy": "sample"}, 400, "decoding.seed: must be an integer"),
    ({"text": ["a"], "seed": [], "strategy": "sample"}, 400, "decoding.seed: must be an integer"),
    ({"text": ["a"], "output_scores": "false"}, 400, "decoding.output_scores: must be true or false"),
    ({"text": ["a"], "max_length_ratio": 1e300}, 400, "decoding.max_length_ratio: must be > 0 and <= 100"),
    (b'{"text": ["a \\ud800 b"]}', 400, "text[0]: not valid Unicode (a lone surrogate"),
    ({"text": ["a b c d e f g h i j"] * 8, "strategy": "beam", "beam_size": 1000}, 413,
     "the limit is max_request_work=100,000"),
    ({"text": ["a"], "beam_sise": 3}, 400, "decoding.beam_sise: no such decoding option"),
    ({"text": ["a"], "strategy": "viterbi"}, 400, "decoding.strategy: 'viterbi' is not one of"),
])
def test_bad_requests_get_a_json_error_and_the_server_stays_up(server, body, status, needle):
    got, answer = post(server.url, body)
    assert got == status and needle in answer["error"], answer
    assert post(server.url, {"text": ["a b"]})[0] == 200


def test_unknown_paths_and_oversized_bodies(server):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.url + "/nope", timeout=10)
    assert err.value.code == 404
    status, answer = post(server.url, b"x" * 1_000_001)  # read away by the server, then refused
    assert status == 413 and "max_body_bytes" in answer["error"]
    host, port = server.http.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)  # a huge body announced, never sent
    connection.putrequest("POST", "/translate")
    connection.putheader("Content-Length", str(10**9))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413 and "max_body_bytes" in json.loads(response.read())["error"]
    connection.close()
    assert post(server.url, {"text": ["a b"]})[0] == 200


def test_the_command_serves_until_stopped(trained):
    process = subprocess.Popen([sys.executable, "-m", "seq2seq.cli.serve", f"checkpoint={trained}", "port=0"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert "serving" in line, process.stderr.read() if process.poll() is not None else line
        url = line.split(" on ")[1].split(" ")[0]
        assert post(url, {"text": ["a b c"]})[0] == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def raw(server, method: str, headers: dict, body: bytes = b"") -> tuple:
    host, port = server.http.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.putrequest(method, "/translate")
    for key, value in headers.items():
        connection.putheader(key, value)
    connection.endheaders(body or None)
    response = connection.getresponse()
    answer = response.status, response.getheader("Content-Type"), response.read()
    connection.close()
    return answer


def test_other_methods_and_a_negative_length_get_json_errors(server):
    """PUT/DELETE once got the standard library's HTML 501, a negative Content-Length a dropped connection."""
    for method in ("PUT", "DELETE", "PATCH"):
        status, kind, body = raw(server, method, {"Content-Length": "2"}, b"{}")
        assert status == 405 and kind.startswith("application/json"), (method, status, body)
        assert "method " + method + " not allowed" in json.loads(body)["error"]
    status, kind, body = raw(server, "POST", {"Content-Length": "-5"})
    assert status == 400 and "Content-Length must be >= 0" in json.loads(body)["error"]
    assert post(server.url, {"text": ["a b"]})[0] == 200


def test_a_short_request_behind_a_long_one_waits_for_a_chunk_not_for_all_of_it(trained):
    """The worker translates a long request a chunk at a time and takes turns: a one-line request sent while the
    long one runs is answered before the long one ends, and both get exactly their own translations."""
    model = seq2seq.load(trained)
    batcher = Batcher(model, batch_lines=256, wait_ms=0, chunk_work=60)
    long_lines = [f"{chr(97 + i % 8)} {chr(98 + i % 6)} c d e" for i in range(400)]
    decoding = model.decoding("beam", beam_size=2, n_best=2)
    finished = {}
    try:
        def run(name, lines):
            finished[name] = (batcher.submit(lines, decoding), time.monotonic())

        long = threading.Thread(target=run, args=("long", long_lines))
        long.start()
        while batcher.batches < 2:  # the long request is being translated
            time.sleep(0.001)
        run("short", ["b a"])
        long.join(timeout=120)
    finally:
        batcher.stop()
    assert finished["short"][1] < finished["long"][1]
    assert finished["short"][0] == model.translate_with(["b a"], decoding)
    assert finished["long"][0] == model.translate_with(long_lines, decoding)  # n-best numbering across chunks

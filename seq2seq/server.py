"""`seq2seq-serve`: a trained run behind HTTP. POST /translate {"text": [lines], ...decoding options} ->
{"translations": [lines]}; GET /health. Concurrent requests with the same decoding options are translated as one
batch; a bad request gets a 4xx JSON error and the server stays up.

The standard library's threading HTTP server is enough here: one thread per connection, and one worker thread
that owns the model (so translations never run concurrently on two threads).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Tuple

from seq2seq.api import Model, load
from seq2seq.config import DecodingConfig, ServeConfig, Strategy
from seq2seq.errors import UserError

log = logging.getLogger(__name__)


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def work(lines: List[str], decoding: DecodingConfig) -> int:
    """What a request costs the worker, roughly: its characters times the hypotheses searched per sentence."""
    return sum(max(len(line), 1) for line in lines) * (decoding.beam_size if decoding.strategy == Strategy.beam
                                                         else 1)


@dataclass
class Job:
    lines: List[str]
    decoding: DecodingConfig
    result: Future = field(default_factory=Future)
    done: int = 0  # lines translated so far
    out: List[str] = field(default_factory=list)  # their output lines (n-best lines numbered within the job)


@dataclass
class Piece:
    job: Job
    start: int
    end: int


class Batcher:
    """The model's one worker. Requests take turns: each turn translates the next chunk (at most `chunk_work`) of
    the request at the front, joined by the next chunks of other waiting requests with equal decoding options (up
    to `batch_lines` lines), and sends the front request to the back until it is done; so a short request waits
    for one chunk, not for a long one to finish. A new request waits up to `batch_wait_ms` for company. Sampling
    requests run whole and alone, so a seeded request gives the same sample whatever else arrives."""

    def __init__(self, model: Model, batch_lines: int, wait_ms: float, chunk_work: int = 8_000):
        self.model, self.batch_lines, self.wait, self.chunk_work = model, batch_lines, wait_ms / 1000, chunk_work
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.batches = 0  # translate calls made (for the tests and the health check)
        self.thread = threading.Thread(target=self._run, name="seq2seq-translate", daemon=True)
        self.thread.start()

    def submit(self, lines: List[str], decoding: DecodingConfig) -> List[str]:
        if not lines:
            return []
        job = Job(lines, decoding)
        self.jobs.put(job)
        return job.result.result()

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=10)

    def _take(self, active: List[Job]) -> bool:
        """Move queued jobs into `active`: when it is empty, wait for the first, then up to `wait` for company
        (until `batch_lines` lines are there); else take what is queued now. False once stopped."""
        wait_until = None
        if not active:
            first = self.jobs.get()
            if first is None:
                return False
            active.append(first)
            wait_until = time.monotonic() + self.wait
        while wait_until is None or sum(len(job.lines) for job in active) < self.batch_lines:
            try:
                job = self.jobs.get_nowait() if wait_until is None else \
                    self.jobs.get(timeout=max(wait_until - time.monotonic(), 0))
            except queue.Empty:
                return True
            if job is None:
                self.jobs.put(None)  # stop once the jobs taken are done
                return True
            active.append(job)
        return True

    def _run(self) -> None:
        active: List[Job] = []
        while self._take(active):
            first = active[0]
            if first.decoding.strategy == Strategy.sample:
                pieces = [Piece(first, 0, len(first.lines))]
            else:
                pieces = self._pieces(first, [job for job in active[1:] if job.decoding == first.decoding])
            self._translate(pieces)
            served = {id(piece.job) for piece in pieces}
            active[:] = [job for job in active if id(job) not in served] + \
                        [job for job in active if id(job) in served and not job.result.done()]

    def _pieces(self, first: Job, company: List[Job]) -> List[Piece]:
        """This turn's lines: the next chunk of `first`, then of each job in `company` while the chunk's work and
        the batch's lines allow (the turn's first line always goes, however long)."""
        pieces: List[Piece] = []
        lines = spent = 0
        for job in [first, *company]:
            end = job.done
            while end < len(job.lines) and lines < self.batch_lines:
                cost = work(job.lines[end:end + 1], job.decoding)
                if (pieces or end > job.done) and spent + cost > self.chunk_work:
                    break
                spent, lines, end = spent + cost, lines + 1, end + 1
            if end > job.done:
                pieces.append(Piece(job, job.done, end))
        return pieces

    def _translate(self, pieces: List[Piece]) -> None:
        decoding = pieces[0].job.decoding
        lines = [line for piece in pieces for line in piece.job.lines[piece.start:piece.end]]
        try:
            out = self.model.translate_with(lines, decoding)
            self.batches += 1
        except Exception as err:  # the job's request answers 500; the server stays up
            log.exception("translation failed")
            for piece in pieces:
                if not piece.job.result.done():
                    piece.job.result.set_exception(err)
            return
        if decoding.n_best == 1:
            by_line = [[line] for line in out]
            sep = ""
        else:
            # n-best lines are `INDEX<sep>text<sep>score` (an empty input line has one): split them by INDEX and
            # number each job's lines from 0, as if it had been translated alone
            sep = "\t" if decoding.output_scores else " ||| "
            by_line = [[] for _ in lines]
            for line in out:
                index, rest = line.split(sep, 1)
                by_line[int(index)].append(rest)
        at = 0
        for piece in pieces:
            job = piece.job
            for i in range(piece.start, piece.end):
                job.out.extend(by_line[at] if not sep else [f"{i}{sep}{rest}" for rest in by_line[at]])
                at += 1
            job.done = piece.end
            if job.done == len(job.lines):
                job.result.set_result(job.out)


def parse_request(body: bytes, cfg: ServeConfig, model: Model) -> Tuple[List[str], DecodingConfig]:
    """The lines and decoding options of a POST /translate body, or BadRequest saying what is wrong."""
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequest(400, f"the body is not JSON ({err})") from None
    if not isinstance(request, dict) or "text" not in request:
        raise BadRequest(400, 'expected a JSON object {"text": ["a line", ...], ...decoding options}')
    text = request.pop("text")
    if not isinstance(text, list) or not all(isinstance(line, str) for line in text):
        raise BadRequest(400, '"text" must be a list of strings')
    if len(text) > cfg.max_lines:
        raise BadRequest(413, f"{len(text)} lines in one request; the limit is max_lines={cfg.max_lines}")
    long = next((i for i, line in enumerate(text) if len(line) > cfg.max_line_chars), None)
    if long is not None:
        raise BadRequest(413, f"line {long + 1} has {len(text[long])} characters; the limit is "
                              f"max_line_chars={cfg.max_line_chars}")
    for i, line in enumerate(text):
        try:
            line.encode("utf-8")
        except UnicodeEncodeError as err:  # JSON can carry a lone surrogate (\ud800), which is no text
            raise BadRequest(400, f"text[{i}]: not valid Unicode (a lone surrogate at character {err.start})") \
                from None
    if any("\n" in line or "\r" in line for line in text):
        raise BadRequest(400, "a line contains a line break; send each sentence as its own list item")
    options = {k: v for k, v in asdict(cfg.decoding).items() if k != "strategy"}
    defaults = DecodingConfig()
    # keys a request does not set keep the server's values, unless they only fit the server's strategy
    strategy = request.pop("strategy", cfg.decoding.strategy.value)
    if strategy != cfg.decoding.strategy.value:
        options = {k: getattr(defaults, k) if k in ("beam_size", "length_penalty", "exact_stop", "temperature")
                   else v for k, v in options.items()}
    options.update(request)
    try:
        decoding = model.decoding(strategy, **options)
    except UserError as err:
        raise BadRequest(400, str(err)) from None
    except (TypeError, ValueError) as err:
        raise BadRequest(400, f"bad decoding option ({err})") from None
    cost = work(text, decoding)
    if cost > cfg.max_request_work:
        raise BadRequest(413, f"the request's work is {cost:,} (characters x beam size); the limit is "
                              f"max_request_work={cfg.max_request_work:,}: send fewer lines or a smaller beam")
    return text, decoding


def make_handler(cfg: ServeConfig, model: Model, batcher: Batcher):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 60  # seconds a client may stall mid-request (a slow or stuck client) before it is dropped

        def _send(self, status: int, payload: Dict[str, Any], headers: Dict[str, str] | None = None) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client hung up: one line, no traceback
                self.close_connection = True
                log.info("%s hung up before its %d answer", self.address_string(), status)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """The standard library's own refusals (malformed request lines, unsupported methods, over-long
            headers) as JSON like every other answer; an unsupported method is 405."""
            self.close_connection = True
            if code == 501:
                return self._send(405, {"error": f"method {self.command} not allowed; use POST /translate or GET "
                                                 "/health"}, {"Allow": "GET, POST"})
            self._send(code, {"error": message or explain or "bad request"})

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            if self.path != "/health":
                return self._send(404, {"error": f"no such endpoint {self.path}; use POST /translate or GET /health"})
            self._send(200, {"status": "ok", "task": model.task.name, "batches": batcher.batches})

        def do_POST(self) -> None:  # noqa: N802
            if self.path != "/translate":
                return self._send(404, {"error": f"no such endpoint {self.path}; use POST /translate"})
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                return self._send(411, {"error": "a Content-Length header is required"})
            if length < 0:
                self.close_connection = True
                return self._send(400, {"error": f"Content-Length must be >= 0, got {length}"})
            if length > cfg.max_body_bytes:
                self.close_connection = True
                if length <= 4 * cfg.max_body_bytes:  # read it away, so that the client gets this answer, not EPIPE
                    self.rfile.read(length)
                return self._send(413, {"error": f"the body has {length} bytes; the limit is "
                                                 f"max_body_bytes={cfg.max_body_bytes}"})
            body = self.rfile.read(length)
            try:
                lines, decoding = parse_request(body, cfg, model)
            except BadRequest as err:
                return self._send(err.status, {"error": str(err)})
            try:
                translations = batcher.submit(lines, decoding)
            except Exception as err:
                return self._send(500, {"error": f"translation failed ({err})"})
            self._send(200, {"translations": translations})

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the standard library's name)
            log.debug("%s - %s", self.address_string(), format % args)

    return Handler


def _dropped_client(request: Any, address: Any) -> None:
    """A connection that failed outside a request's answer (a client gone mid-read): one log line, not the
    standard library's traceback on stderr."""
    import sys

    err = sys.exc_info()[1]
    log.info("%s: connection dropped (%s)", address[0] if address else "client", type(err).__name__)


class Server:
    """The HTTP server and its translation worker; `serve_forever` in a thread for tests, `close` to stop."""

    def __init__(self, cfg: ServeConfig):
        self.cfg = cfg
        self.model = load(cfg.checkpoint, pair=cfg.pair, device=cfg.device, threads=cfg.threads)
        self.batcher = Batcher(self.model, cfg.batch_lines, cfg.batch_wait_ms, cfg.chunk_work)
        try:
            self.http = ThreadingHTTPServer((cfg.host, cfg.port), make_handler(cfg, self.model, self.batcher))
        except OSError as err:
            self.batcher.stop()
            raise UserError(f"port: cannot listen on {cfg.host}:{cfg.port} ({err.strerror or err}); "
                            "choose another with port=N (0 = any free port)") from None
        self.http.daemon_threads = True
        self.http.handle_error = _dropped_client  # type: ignore[method-assign]

    @property
    def url(self) -> str:
        host, port = self.http.server_address[:2]
        return f"http://{host}:{port}"

    def serve_forever(self) -> None:
        self.http.serve_forever()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.batcher.stop()

"""A fake SSB PxWebApi server on 127.0.0.1 and JSON-stat2 answer builders for tests.

:class:`FakeSSBServer` is a real HTTP server (``http.server`` on a free port of 127.0.0.1) that
answers every GET with the next item of a script (status, headers, body) and repeats the last
one; it refuses to answer more than ``max_requests`` requests (HTTP 418, counted in
``overflow``), so a client with an unbounded retry loop shows up as a failing test rather than a
hanging one. Nothing leaves the machine.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from geoproc.data import codes as kc


@dataclass
class Reply:
    status: int = 200
    body: object = None  # dict/list -> JSON; str/bytes sent as is
    headers: dict | None = None


class FakeSSBServer:
    """``with FakeSSBServer([Reply(...), ...]) as srv: SSBClient(base_url=srv.url)``.

    ``script`` is one list of replies for every request, or a dict table id -> list of replies
    (routed by the ``/tables/{id}/`` part of the path; other tables get HTTP 404).
    """

    def __init__(self, script, max_requests: int = 20):
        self.routes = {k: list(v) for k, v in script.items()} if isinstance(script, dict) else None
        self.script = [] if isinstance(script, dict) else list(script)
        self.max_requests = max_requests
        self.requests: list[tuple[str, dict]] = []
        self.overflow = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                parts = urlsplit(self.path)
                with server._lock:
                    if len(server.requests) >= server.max_requests:
                        server.overflow += 1
                        reply = Reply(418, "too many requests to the fake server")
                    else:
                        server.requests.append((parts.path, dict(parse_qsl(parts.query))))
                        script = server.script
                        if server.routes is not None:
                            segs = parts.path.split("/")
                            table = segs[segs.index("tables") + 1] if "tables" in segs else ""
                            script = server.routes.get(table, [Reply(404, f"no table {table}")])
                        reply = script.pop(0) if len(script) > 1 else script[0]
                body = reply.body
                data = (json.dumps(body).encode() if isinstance(body, (dict, list)) else
                        body.encode() if isinstance(body, str) else body or b"")
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json" if isinstance(body, (dict, list)) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (reply.headers or {}).items():
                    self.send_header(key, str(value))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep test output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/api/pxwebapi/v2"

    def __enter__(self) -> "FakeSSBServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class FakeClock:
    """Monotonic clock + sleep that only advances the clock (tests never really sleep)."""

    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def jsonstat(dims: dict[str, list[str]], values, labels: dict[str, dict[str, str]] | None = None) -> dict:
    """A JSON-stat2 dataset with dimensions ``dims`` (id -> codes, in order) and ``values``
    (row-major, last dimension fastest; a callable gets the codes of each cell)."""
    import itertools

    ids = list(dims)
    cells = list(itertools.product(*(dims[i] for i in ids)))
    vals = [values(*c) for c in cells] if callable(values) else list(values)
    labels = labels or {}
    return {
        "version": "2.0", "class": "dataset", "label": "fake", "source": "test",
        "id": ids, "size": [len(dims[i]) for i in ids],
        "dimension": {i: {"label": i.lower(), "category": {
            "index": {c: k for k, c in enumerate(dims[i])},
            "label": {c: labels.get(i, {}).get(c, c) for c in dims[i]}}} for i in ids},
        "value": vals,
    }


def kommuner(year: int) -> list[str]:
    """Every kommune code of ``year``'s code system, sorted."""
    return sorted(kc.known_codes(kc.system_for_year(year)))


def employment_answer(year: int | list[int] = 2020, regions: list[str] | None = None,
                      extra: tuple[str, ...] = ("2100",)) -> dict:
    """An 11618 answer for ``year`` (one or several) covering ``regions`` (default: every kommune of
    each year; a code outside a year's code system is null in that year) plus ``extra`` codes that
    are not kommuner (Svalbard 2100: null). Values: population 1000 + i, employed by residence
    600 + i, by workplace 500 + i for the i-th region."""
    years = [year] if isinstance(year, int) else list(year)
    valid = {y: set(kommuner(y)) if regions is None else set(regions) for y in years}
    regions = (sorted(set().union(*valid.values())) if regions is None else list(regions)) + list(extra)
    pos = {r: k for k, r in enumerate(regions)}
    contents = ["BefolkningBosted", "SysselBosted", "SysselArbsted"]
    base = {"BefolkningBosted": 1000, "SysselBosted": 600, "SysselArbsted": 500}

    def value(region, kjonn, alder, content, tid):
        return base[content] + pos[region] if region in valid[int(tid)] else None

    return jsonstat({"Region": regions, "Kjonn": ["0"], "Alder": ["15-74"], "ContentsCode": contents,
                     "Tid": [str(y) for y in years]}, value)


def commuting_answer(year: int, regions: list[str] | None = None) -> dict:
    """A 03321 answer for one year: everyone works at home (employed 500 + i), 10 commute to the next."""
    regions = kommuner(year) if regions is None else list(regions)
    pos = {r: k for k, r in enumerate(regions)}

    def value(home, work, content, tid):
        return 500 + pos[home] if home == work else 10 if pos[work] == (pos[home] + 1) % len(regions) else 0

    return jsonstat({"ArbstedKomm": regions, "Bokommuen": regions, "ContentsCode": ["Sysselsatte"],
                     "Tid": [str(year)]}, lambda w, h, c, t: value(h, w, c, t))


def population_answer(years: list[int], regions: list[str] | None = None, ages: list[str] | None = None) -> dict:
    """A 07459 answer: 10 persons per kommune, sex, single age 0..104 and '105+'."""
    regions = sorted(set().union(*(kommuner(y) for y in years))) if regions is None else list(regions)
    ages = [f"{a:03d}" for a in range(105)] + ["105+"] if ages is None else ages
    return jsonstat({"Region": regions, "Kjonn": ["1", "2"], "Alder": ages, "ContentsCode": ["Personer1"],
                     "Tid": [str(y) for y in years]}, lambda *c: 10)

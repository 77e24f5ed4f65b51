"""SSB PxWebApi v2 client: JSON-stat2 parsing, cache, retries, offline errors, rate limiting.

No network: a fake session serves the hand-written JSON-stat2 fixtures in tests/fixtures/ssb/,
and a fake clock replaces sleeping.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from centrality.errors import InputError
from geoproc.data import ssb_client as sc

FIXTURES = Path(__file__).parent / "fixtures" / "ssb"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeResponse:
    def __init__(self, status_code=200, doc=None, text="", headers=None):
        self.status_code, self._doc, self.text, self.headers = status_code, doc, text, headers or {}

    def json(self):
        if self._doc is None:
            raise ValueError("no json")
        return self._doc


class FakeSession:
    """Serves ``script`` items in order (a FakeResponse or an exception); then repeats the last."""

    def __init__(self, *script):
        self.script, self.calls = list(script), []

    def get(self, url, params=None, timeout=None):
        self.calls.append((url, list(params or [])))
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, BaseException):
            raise item
        return item


class FakeClock:
    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(tmp_path, *script, **kw):
    clock = FakeClock()
    client = sc.SSBClient(session=FakeSession(*script), cache_dir=tmp_path / "cache", sleep=clock.sleep,
                          rate_limiter=sc.RateLimiter(30, 60, clock=clock, sleep=clock.sleep), **kw)
    return client, clock


def test_parse_jsonstat2_exact_values_and_labels():
    df = sc.parse_jsonstat2(fixture("07459_population.json"))
    assert len(df) == 17  # 18 cells, one null dropped
    row = df[(df.Region == "5001") & (df.Kjonn == "2") & (df.Alder == "020")].iloc[0]
    assert row.value == 1367 and row.Region_label == "Trondheim - Tråante" and row.Kjonn_label == "Kvinner"
    assert df[(df.Region == "5037") & (df.Kjonn == "1") & (df.Alder == "000")].value.item() == 120
    full = sc.parse_jsonstat2(fixture("07459_population.json"), drop_missing=False)
    assert len(full) == 18 and full.value.isna().sum() == 1


def test_parse_sparse_values_and_bad_documents():
    doc = fixture("11618_employment.json")
    doc["value"] = {"0": 545060, "5": 121225}
    df = sc.parse_jsonstat2(doc)
    assert df[["Region", "ContentsCode", "value"]].values.tolist() == [
        ["0301", "BefolkningBosted", 545060.0], ["5001", "SysselArbsted", 121225.0]]
    with pytest.raises(InputError, match="not a JSON-stat2 dataset"):
        sc.parse_jsonstat2({"class": "collection"})
    truncated = fixture("11618_employment.json")
    truncated["value"] = truncated["value"][:4]
    with pytest.raises(InputError, match="4 values for 6 cells"):
        sc.parse_jsonstat2(truncated)


def test_fetch_population_query_and_tidy_table(tmp_path):
    client, _ = make_client(tmp_path, FakeResponse(doc=fixture("07459_population.json")))
    df = sc.fetch_population_by_age_sex([2020], client=client, complete=False)
    url, params = client.session.calls[0]
    assert url == "https://data.ssb.no/api/pxwebapi/v2/tables/07459/data"
    assert ("outputFormat", "json-stat2") in params and ("valueCodes[Region]", "????") in params
    assert ("valueCodes[Kjonn]", "1,2") in params and ("valueCodes[Tid]", "2020") in params
    assert list(df.columns) == ["year", "kommune", "sex", "age", "population"]
    assert df.attrs["dropped_codes"] == ["9999"]
    t = df.set_index(["kommune", "sex", "age"])["population"]
    assert t[("5001", "female", 20)] == 1367 and t[("5001", "male", 20)] == 1393
    assert t[("5001", "female", 105)] == 3 and len(df) == 12


def test_fetch_employment_and_commuting(tmp_path):
    client, _ = make_client(tmp_path, FakeResponse(doc=fixture("11618_employment.json")),
                            FakeResponse(doc=fixture("03321_commuting.json")))
    e = sc.fetch_employment(2020, client=client, complete=False).set_index("kommune")
    assert e.loc["0301"].tolist() == [2020, 545060, 372443, 485787]
    assert e.loc["5001", "employed_by_workplace"] == 121225
    c = sc.fetch_commuting([2020], client=client, complete=False)
    flows = c.set_index(["home_kommune", "work_kommune"])["employed"]
    assert flows[("5035", "5001")] == 2524 and flows[("5037", "5001")] == 553 and flows[("5001", "5035")] == 1710
    assert c["employed"].sum() == 94895 + 2524 + 553 + 1710 + 7050 + 480 + 240 + 391 + 7340


def test_cache_hit_avoids_second_request(tmp_path):
    client, _ = make_client(tmp_path, FakeResponse(doc=fixture("11618_employment.json")))
    first = sc.fetch_employment([2020], client=client, complete=False)
    second = sc.fetch_employment([2020], client=client, complete=False)
    assert len(client.session.calls) == 1 and client.requests_made == 1
    assert first.equals(second)
    assert len(list((tmp_path / "cache").glob("11618_*.json"))) == 1
    with pytest.raises(InputError, match="Region codes differ"):  # another query: new request
        sc.fetch_employment([2020], kommuner=["0301"], client=client)
    assert len(client.session.calls) == 2


def test_retry_on_503_then_success_with_exponential_backoff(tmp_path):
    client, clock = make_client(tmp_path, FakeResponse(503), FakeResponse(503),
                                FakeResponse(doc=fixture("11618_employment.json")), backoff_s=2.0)
    df = sc.fetch_employment([2020], client=client, complete=False)
    assert len(df) == 2 and len(client.session.calls) == 3
    assert clock.sleeps == [2.0, 4.0]


def test_retry_after_header_is_respected(tmp_path):
    client, clock = make_client(tmp_path, FakeResponse(429, headers={"Retry-After": "7"}),
                                FakeResponse(doc=fixture("11618_employment.json")))
    sc.fetch_employment([2020], client=client, complete=False)
    assert clock.sleeps == [7.0]


def test_offline_gives_clear_input_error(tmp_path):
    client, clock = make_client(tmp_path, requests.ConnectionError("Name or service not known"),
                                max_connect_retries=2)
    with pytest.raises(InputError, match="cannot reach data.ssb.no.*--data-dir"):
        sc.fetch_employment([2020], client=client, complete=False)
    assert len(client.session.calls) == 3 and clock.sleeps == [2.0, 4.0]
    client, _ = make_client(tmp_path, requests.ConnectionError("reset"), FakeResponse(doc=fixture("11618_employment.json")))
    assert len(sc.fetch_employment([2020], client=client, complete=False)) == 2  # a transient drop is retried


def test_persistent_503_and_bad_query_errors(tmp_path):
    client, _ = make_client(tmp_path, FakeResponse(503), max_retries=2)
    with pytest.raises(InputError, match="HTTP 503 to 3 attempts.*try again later"):
        sc.fetch_employment([2020], client=client, complete=False)
    client, _ = make_client(tmp_path, FakeResponse(400, text="Non-existent variable Regin"))
    with pytest.raises(InputError, match="HTTP 400.*Regin.*metadata"):
        client.fetch("11618", {"Regin": "0301"})
    assert len(client.session.calls) == 1  # no retry on a client error


def test_rate_limiter_spacing_with_fake_clock():
    clock = FakeClock()
    limiter = sc.RateLimiter(max_calls=2, period_s=60.0, clock=clock, sleep=clock.sleep)
    assert limiter.wait() == 0.0
    clock.now = 10.0
    assert limiter.wait() == 0.0
    assert limiter.wait() == 50.0  # third call within 60 s of the first waits until t=60
    assert clock.now == 60.0
    assert limiter.wait() == 10.0  # the t=10 call leaves the window at t=70
    clock.now = 200.0
    assert limiter.wait() == 0.0
    assert clock.sleeps == [50.0, 10.0]


def test_client_rate_limits_requests(tmp_path):
    clock = FakeClock()
    client = sc.SSBClient(session=FakeSession(FakeResponse(doc=fixture("11618_employment.json"))),
                          use_cache=False, sleep=clock.sleep,
                          rate_limiter=sc.RateLimiter(2, 60, clock=clock, sleep=clock.sleep))
    query = {"Region": ["0301", "5001"], "Kjonn": "0", "Alder": "15-74",
             "ContentsCode": ["BefolkningBosted", "SysselBosted", "SysselArbsted"], "Tid": [2020]}
    for _ in range(3):
        client.fetch("11618", query)
    assert clock.sleeps == [60.0]


def test_years_required():
    with pytest.raises(InputError, match="no years"):
        sc.fetch_employment([], client=sc.SSBClient(session=FakeSession(FakeResponse(500))))


# ------------------------------------------------------------------ issue 13: a real HTTP server on 127.0.0.1
from fake_ssb import FakeClock as _Clock  # noqa: E402
from fake_ssb import FakeSSBServer, Reply, employment_answer, jsonstat, kommuner  # noqa: E402

ALL_2020 = kommuner(2020)


def http_client(server, tmp_path, **kw):
    """A client with the default requests.Session talking to the fake server; fake clock."""
    clock = _Clock()
    kw.setdefault("cache_dir", tmp_path / "cache")
    client = sc.SSBClient(base_url=server.url, sleep=clock.sleep, clock=clock,
                          rate_limiter=sc.RateLimiter(30, 60, clock=clock, sleep=clock.sleep), **kw)
    return client, clock


def test_http_fetch_full_country_through_real_server(tmp_path):
    with FakeSSBServer([Reply(body=employment_answer(2020))]) as srv:
        client, clock = http_client(srv, tmp_path)
        df = sc.fetch_employment([2020], client=client)
    assert len(srv.requests) == 1 and srv.overflow == 0
    path, query = srv.requests[0]
    assert path.endswith("/tables/11618/data") and query["valueCodes[Region]"] == "????"
    assert query["valueCodes[Tid]"] == "2020" and query["outputFormat"] == "json-stat2"
    assert len(df) == 356 and df.attrs["dropped_codes"] == []  # Svalbard 2100 is null -> dropped as missing
    row = df.set_index("kommune").loc[ALL_2020[10]]
    assert row.tolist() == [2020, 1010, 610, 510]
    assert clock.sleeps == []


def test_retry_after_3600_is_not_obeyed(tmp_path):
    """Issue 13: `Retry-After: 3600` was obeyed four times (about 4 hours)."""
    with FakeSSBServer([Reply(429, "slow down", {"Retry-After": "3600"})]) as srv:
        client, clock = http_client(srv, tmp_path)
        with pytest.raises(InputError, match=r"asks to wait 3,600 s \(Retry-After\).*at most 120 s.*--data-dir"):
            sc.fetch_employment([2020], client=client)
    assert len(srv.requests) == 1 and clock.sleeps == []


def test_retry_after_http_date_and_configurable_cap(tmp_path, monkeypatch):
    import email.utils
    import time as _time

    far = email.utils.formatdate(_time.time() + 7200, usegmt=True)
    with FakeSSBServer([Reply(503, "busy", {"Retry-After": far})]) as srv:
        client, clock = http_client(srv, tmp_path)
        with pytest.raises(InputError, match="asks to wait 7,[12]"):
            sc.fetch_employment([2020], client=client)
    monkeypatch.setenv("REGIO_SSB_MAX_RETRY_AFTER_S", "5")
    with FakeSSBServer([Reply(429, "", {"Retry-After": "7"}), Reply(429, "", {"Retry-After": "7"}),
                        Reply(body=employment_answer(2020))]) as srv:
        client, clock = http_client(srv, tmp_path)
        assert client.max_retry_after_s == 5
        with pytest.raises(InputError, match="at most 5 s"):
            sc.fetch_employment([2020], client=client)
        client.max_retry_after_s = 10  # per-client setting
        assert len(sc.fetch_employment([2020], client=client)) == 356
    assert clock.sleeps == [7.0]
    monkeypatch.setenv("REGIO_SSB_MAX_RETRY_AFTER_S", "soon")
    with pytest.raises(InputError, match=r"REGIO_SSB_MAX_RETRY_AFTER_S = 'soon' is not a number"):
        sc.SSBClient(session=FakeSession(FakeResponse(500)))


def test_total_retry_time_is_capped(tmp_path):
    with FakeSSBServer([Reply(503, "busy")], max_requests=10) as srv:
        client, clock = http_client(srv, tmp_path, max_retries=20, max_retry_total_s=10)
        with pytest.raises(InputError, match=r"gave up after 3 failed attempt\(s\) \(HTTP 503\) and 6 s.*"
                                             r"total retry time of 10 s"):
            sc.fetch_employment([2020], client=client)
    assert clock.sleeps == [2.0, 4.0] and len(srv.requests) == 3 and srv.overflow == 0


def test_offline_server_fails_fast(tmp_path):
    with FakeSSBServer([Reply(body={})]) as srv:
        url = srv.url
    clock = _Clock()  # the port is closed now: connection refused
    client = sc.SSBClient(base_url=url, cache_dir=tmp_path, sleep=clock.sleep, clock=clock, timeout_s=2)
    with pytest.raises(InputError, match="cannot reach data.ssb.no.*--data-dir"):
        sc.fetch_employment([2020], client=client)
    assert client.requests_made == 3 and clock.sleeps == [2.0, 4.0]


def _bad_answer(tmp_path, answer, match, **fetch_kw):
    with FakeSSBServer([Reply(body=answer)]) as srv:
        client, _ = http_client(srv, tmp_path)
        with pytest.raises(InputError, match=match):
            fetch = fetch_kw.pop("fetch", sc.fetch_employment)
            fetch([2020], client=client, **fetch_kw)
    assert not list((tmp_path / "cache").glob("*.json")), "a bad answer must not be cached"
    return srv


def test_answer_with_other_year_is_named(tmp_path):
    """Issue 13: a different year in the answer was reported as a missing code list."""
    doc = employment_answer(2020)
    doc["dimension"]["Tid"]["category"] = {"index": {"2016": 0}, "label": {"2016": "2016"}}
    _bad_answer(tmp_path, doc, r"years differ; years asked for: 2020; in the answer: 2016")


def test_answer_with_three_kommuner_is_refused(tmp_path):
    """Issue 13: an SSB answer holding only 3 kommuner ran the model on 3 kommuner."""
    _bad_answer(tmp_path, employment_answer(2020, ["0301", "5001", "5035"]),
                r"Region: the answer covers 3 of the 356 kommuner of the 2020 code system for 2020; missing: 1101")


def test_answer_shape_commuting_without_bokommuen(tmp_path):
    """Issue 13: `KeyError: 'Bokommuen'` for a commuting answer of another shape."""
    wrong = jsonstat({"Region": ALL_2020, "ContentsCode": ["Sysselsatte"], "Tid": ["2020"]}, lambda *c: 1)
    _bad_answer(tmp_path, wrong, r"dimensions differ; .*missing: Bokommuen, ArbstedKomm; unexpected: Region",
                fetch=sc.fetch_commuting)


def test_answer_shape_population_with_age_groups(tmp_path):
    """Issue 13: `ValueError: int('15-74')` when the population answer has age groups."""
    wrong = jsonstat({"Region": ALL_2020, "Kjonn": ["1", "2"], "Alder": ["15-74"], "ContentsCode": ["Personer1"],
                      "Tid": ["2020"]}, lambda *c: 5)
    _bad_answer(tmp_path, wrong, r"Alder codes are not of the expected form .*: 15-74",
                fetch=sc.fetch_population_by_age_sex)


def test_answer_contents_and_explicit_regions_checked(tmp_path):
    doc = employment_answer(2020, ["0301", "5001"], extra=())
    doc["dimension"]["ContentsCode"]["category"]["index"] = {"Befolkning": 0, "SysselBosted": 1, "SysselArbsted": 2}
    _bad_answer(tmp_path, doc, r"ContentsCode codes differ.*missing: BefolkningBosted; not asked for: Befolkning",
                kommuner=["0301", "5001"])
    _bad_answer(tmp_path, employment_answer(2020, ["0301"], extra=()),
                r"Region codes differ; Region codes asked for: 0301, 5001.*missing: 5001", kommuner=["0301", "5001"])
    masked = employment_answer(2020, ["0301", "5001", "K-210"], extra=())
    _bad_answer(tmp_path, masked, r"Region codes do not match the mask \?\?\?\?: K-210", complete=False)


def test_kommune_with_only_missing_values_is_refused(tmp_path):
    doc = employment_answer(2020)
    n_cells = 3  # 3 contents per region, one year
    k = ALL_2020.index("5037")
    doc["value"][k * n_cells:(k + 1) * n_cells] = [None] * n_cells
    _bad_answer(tmp_path, doc, r"Region: no values for 1 of the 356 kommuner needed in 2020: 5037")


def test_truncated_and_damaged_answers(tmp_path):
    doc = employment_answer(2020)
    doc["value"] = doc["value"][:-5]
    _bad_answer(tmp_path, doc, r"values for 1071 cells; the response is truncated")
    _bad_answer(tmp_path, {"class": "dataset", "id": ["Region"], "size": [1], "dimension": {}},
                r"names dimension\(s\) Region without describing them")
    with FakeSSBServer([Reply(body="<html>maintenance</html>")]) as srv:
        client, _ = http_client(srv, tmp_path)
        with pytest.raises(InputError, match="the answer is not JSON"):
            sc.fetch_employment([2020], client=client)


def test_rindal_2019_given_as_5061_is_read_as_1567(tmp_path):
    regions = [c if c != "1567" else "5061" for c in kommuner(2019)]
    with FakeSSBServer([Reply(body=employment_answer(2019, regions, extra=()))]) as srv:
        client, _ = http_client(srv, tmp_path)
        df = sc.fetch_employment([2019], client=client)
    assert len(df) == 422 and "1567" in set(df["kommune"]) and "5061" not in set(df["kommune"])
    assert df.attrs["recoded_codes"] == ["2019 5061->1567"]


@pytest.mark.parametrize("name, sparse", [("07459_population.json", False), ("11618_employment.json", True),
                                          ("03321_commuting.json", False)])
def test_parser_equals_pyjstat_dataframe(name, sparse):
    """Oracle: the rows of pyjstat's own Dataset.write('dataframe') (its slow per-row generator)."""
    import warnings

    from pyjstat import pyjstat

    doc = fixture(name)
    if sparse:
        doc["value"] = {"0": 545060, "5": 121225}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ref = pyjstat.Dataset(doc).write("dataframe", naming="id")
    ours = sc.parse_jsonstat2(doc, drop_missing=False)
    assert ours[list(ref.columns[:-1])].astype(str).values.tolist() == ref[ref.columns[:-1]].astype(str).values.tolist()
    np.testing.assert_array_equal(ours["value"].to_numpy(), pd.to_numeric(ref["value"]).to_numpy(dtype=float))


def test_pyjstat_parse_matches_hand_computed_cells():
    """The pyjstat-based parser keeps the cell order of JSON-stat2 (last dimension fastest)."""
    doc = jsonstat({"A": ["a1", "a2"], "B": ["b1", "b2", "b3"]}, [1, 2, 3, 4, None, 6],
                   labels={"A": {"a1": "first"}})
    df = sc.parse_jsonstat2(doc)
    assert df[["A", "B", "value"]].values.tolist() == [["a1", "b1", 1.0], ["a1", "b2", 2.0], ["a1", "b3", 3.0],
                                                       ["a2", "b1", 4.0], ["a2", "b3", 6.0]]
    assert df["A_label"].tolist()[:2] == ["first", "first"] and df["A_label"].iloc[-1] == "a2"


def test_years_before_code_lists_fail_before_any_request():
    session = FakeSession(FakeResponse(500))
    with pytest.raises(InputError, match="no kommune code list for 2016"):
        sc.fetch_employment([2016], client=sc.SSBClient(session=session))
    assert session.calls == []

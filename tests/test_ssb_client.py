"""SSB PxWebApi v2 client: JSON-stat2 parsing, cache, retries, offline errors, rate limiting.

No network: a fake session serves the hand-written JSON-stat2 fixtures in tests/fixtures/ssb/,
and a fake clock replaces sleeping.
"""
from __future__ import annotations

import json
from pathlib import Path

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
    df = sc.fetch_population_by_age_sex([2020], client=client)
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
    e = sc.fetch_employment(2020, client=client).set_index("kommune")
    assert e.loc["0301"].tolist() == [2020, 545060, 372443, 485787]
    assert e.loc["5001", "employed_by_workplace"] == 121225
    c = sc.fetch_commuting([2020], client=client)
    flows = c.set_index(["home_kommune", "work_kommune"])["employed"]
    assert flows[("5035", "5001")] == 2524 and flows[("5037", "5001")] == 553 and flows[("5001", "5035")] == 1710
    assert c["employed"].sum() == 94895 + 2524 + 553 + 1710 + 7050 + 480 + 240 + 391 + 7340


def test_cache_hit_avoids_second_request(tmp_path):
    client, _ = make_client(tmp_path, FakeResponse(doc=fixture("11618_employment.json")))
    first = sc.fetch_employment([2020], client=client)
    second = sc.fetch_employment([2020], client=client)
    assert len(client.session.calls) == 1 and client.requests_made == 1
    assert first.equals(second)
    assert len(list((tmp_path / "cache").glob("11618_*.json"))) == 1
    sc.fetch_employment([2020], kommuner=["0301"], client=client)  # another query: new request
    assert len(client.session.calls) == 2


def test_retry_on_503_then_success_with_exponential_backoff(tmp_path):
    client, clock = make_client(tmp_path, FakeResponse(503), FakeResponse(503),
                                FakeResponse(doc=fixture("11618_employment.json")), backoff_s=2.0)
    df = sc.fetch_employment([2020], client=client)
    assert len(df) == 2 and len(client.session.calls) == 3
    assert clock.sleeps == [2.0, 4.0]


def test_retry_after_header_is_respected(tmp_path):
    client, clock = make_client(tmp_path, FakeResponse(429, headers={"Retry-After": "7"}),
                                FakeResponse(doc=fixture("11618_employment.json")))
    sc.fetch_employment([2020], client=client)
    assert clock.sleeps == [7.0]


def test_offline_gives_clear_input_error(tmp_path):
    client, clock = make_client(tmp_path, requests.ConnectionError("Name or service not known"),
                                max_connect_retries=2)
    with pytest.raises(InputError, match="cannot reach data.ssb.no.*--data-dir"):
        sc.fetch_employment([2020], client=client)
    assert len(client.session.calls) == 3 and clock.sleeps == [2.0, 4.0]
    client, _ = make_client(tmp_path, requests.ConnectionError("reset"), FakeResponse(doc=fixture("11618_employment.json")))
    assert len(sc.fetch_employment([2020], client=client)) == 2  # a transient drop is retried


def test_persistent_503_and_bad_query_errors(tmp_path):
    client, _ = make_client(tmp_path, FakeResponse(503), max_retries=2)
    with pytest.raises(InputError, match="HTTP 503 to 3 attempts.*try again later"):
        sc.fetch_employment([2020], client=client)
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
    for _ in range(3):
        client.fetch("11618", {"Region": "0301"})
    assert clock.sleeps == [60.0]


def test_years_required():
    with pytest.raises(InputError, match="no years"):
        sc.fetch_employment([], client=sc.SSBClient(session=FakeSession(FakeResponse(500))))

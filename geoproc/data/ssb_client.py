"""Client for Statistics Norway's statistics bank API, PxWebApi v2 (JSON-stat2 output).

Query syntax (SSB's user guide https://www.ssb.no/en/api/statbank-pxwebapi-user-guide and the
PxWebApi 2 spec, github.com/PxTools/PxApiSpecs): a GET on
``{BASE_URL}/tables/{table}/data?lang=no&outputFormat=json-stat2&valueCodes[Var]=a,b`` where
each ``valueCodes[...]`` selects codes of one variable; ``*`` and ``?`` mask characters
(``????`` = every 4-character code, i.e. kommuner in a Region variable), ``top(n)`` the n last
periods; ``codelist[Var]=...`` picks a value set or aggregation (e.g. ``agg_KommSummer``).
Limits published by SSB: 800 000 cells per query, 30 queries per 60 s per IP address
(https://data.ssb.no/api/pxwebapi/v2/config); the client rate-limits itself to that by default.

Variable and content codes used by the convenience functions (from SSB's table metadata as used
in statisticsnorway/pendling ``make_data.R`` and SSB's examples):

- 07459 population 1 January: Region, Kjonn (1 = male, 2 = female), Alder ('000'..'104',
  '105+'), ContentsCode 'Personer1', Tid (year).
- 11618 employed persons 4th quarter: Region, Kjonn ('0' = both), Alder ('15-74'),
  ContentsCode 'BefolkningBosted' / 'SysselBosted' / 'SysselArbsted', Tid (year).
- 03321 commuting: Bokommuen (residence), ArbstedKomm (work place), ContentsCode 'Sysselsatte',
  Tid (year).
- 06913 population change: Region, ContentsCode (all requested with '*'; returned with SSB's
  codes and labels), Tid.
- 13470 employment by industry: use :meth:`SSBClient.fetch` directly (no convenience wrapper).

Uncertainty (not verifiable offline while writing this): the exact ContentsCode of 07459
('Personer1') and the Alder code of the open age group ('105+') are as documented by SSB for
PxWebApi v1 and assumed unchanged in v2; the parser also accepts '105' and '105+'. Codes that are
not kommuner of the year's code system (e.g. Svalbard, 'unknown kommune', discontinued codes)
are dropped from the tidy tables and listed in ``df.attrs['dropped_codes']``; missing cells
(JSON-stat ``null``, SSB's '..') are dropped too.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from centrality.errors import InputError
from centrality.fileio import atomic_write

from . import codes as kc
from . import tables

BASE_URL = "https://data.ssb.no/api/pxwebapi/v2"
TABLES = {"population": "07459", "population_change": "06913", "employment": "11618",
          "employment_industry": "13470", "commuting": "03321"}
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
OFFLINE_HINT = ("cannot reach data.ssb.no ({detail}); use --data-dir with local files or try again when "
                "online.")


def default_cache_dir() -> Path:
    """``$REGIO_CACHE_DIR/ssb`` or ``~/.cache/regio/ssb``."""
    root = os.environ.get("REGIO_CACHE_DIR")
    return Path(root).expanduser() / "ssb" if root else Path.home() / ".cache" / "regio" / "ssb"


class RateLimiter:
    """Sliding-window limiter: at most ``max_calls`` calls in any ``period_s`` seconds.

    ``clock`` and ``sleep`` are injectable so tests run with a fake clock and never sleep.
    """

    def __init__(self, max_calls: int = 30, period_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        if max_calls < 1 or period_s <= 0:
            raise InputError("rate limit must allow at least 1 call in a positive period (e.g. 30 per 60 s).")
        self.max_calls, self.period_s = int(max_calls), float(period_s)
        self.clock, self.sleep = clock, sleep
        self._calls: deque[float] = deque()

    def wait(self) -> float:
        """Block until a call is allowed, record it, and return the seconds waited."""
        now = self.clock()
        while self._calls and now - self._calls[0] >= self.period_s:
            self._calls.popleft()
        waited = 0.0
        if len(self._calls) >= self.max_calls:
            waited = self._calls[0] + self.period_s - now
            self.sleep(waited)
            now = self.clock()
            self._calls.popleft()
        self._calls.append(now)
        return waited


# ---------------------------------------------------------------------------------- JSON-stat2
def _category_codes(dim: Mapping) -> list[str]:
    """Category codes of one JSON-stat2 dimension in index order (index may be a list or a dict)."""
    cat = dim.get("category", {})
    index = cat.get("index")
    if index is None:  # a single category may be given by its label only
        return list(cat.get("label", {}).keys())
    if isinstance(index, list):
        return [str(c) for c in index]
    return [str(c) for c, _ in sorted(index.items(), key=lambda kv: kv[1])]


def parse_jsonstat2(doc: Mapping, drop_missing: bool = True) -> pd.DataFrame:
    """JSON-stat2 dataset -> tidy DataFrame.

    One column per dimension with the category code (named like the dimension id, e.g.
    ``Region``), one ``<id>_label`` column with the category label, and ``value`` (float64;
    JSON ``null`` = missing, dropped when ``drop_missing``). Values are in row-major order over
    ``id`` (last dimension fastest), as the JSON-stat 2.0 format prescribes; sparse ``value``
    objects ({"position": value}) are supported.
    """
    if not isinstance(doc, Mapping) or doc.get("class") != "dataset":
        raise InputError("response is not a JSON-stat2 dataset (class 'dataset' missing); ask for "
                         "outputFormat=json-stat2.")
    try:
        ids, sizes, dims = list(doc["id"]), [int(s) for s in doc["size"]], doc["dimension"]
    except KeyError as exc:
        raise InputError(f"JSON-stat2 dataset lacks '{exc.args[0]}'; the response is incomplete.") from None
    codes = [_category_codes(dims[i]) for i in ids]
    if [len(c) for c in codes] != sizes:
        raise InputError(f"JSON-stat2 dataset is inconsistent: size {sizes} but categories "
                         f"{[len(c) for c in codes]}.")
    n = int(np.prod(sizes)) if sizes else 1
    raw = doc.get("value", [])
    values = np.full(n, np.nan)
    if isinstance(raw, Mapping):
        for pos, v in raw.items():
            values[int(pos)] = np.nan if v is None else float(v)
    else:
        if len(raw) != n:
            raise InputError(f"JSON-stat2 dataset has {len(raw)} values for {n} cells; the response is truncated.")
        values[:] = [np.nan if v is None else float(v) for v in raw]
    index = pd.MultiIndex.from_product(codes, names=ids) if ids else pd.RangeIndex(1)
    frame = index.to_frame(index=False) if ids else pd.DataFrame(index=range(1))
    for i in ids:
        labels = dims[i].get("category", {}).get("label", {})
        frame[f"{i}_label"] = frame[i].map(lambda c, lab=labels: lab.get(c, c))
    frame["value"] = values
    if drop_missing:
        frame = frame[frame["value"].notna()].reset_index(drop=True)
    return frame


# -------------------------------------------------------------------------------------- client
def _join(values: str | int | Iterable) -> str:
    if isinstance(values, (str, int, np.integer)):
        return str(values)
    return ",".join(str(v) for v in values)


@dataclass
class SSBClient:
    """PxWebApi v2 client with on-disk cache, retries with exponential backoff and rate limiting.

    ``session`` is anything with ``get(url, params=..., timeout=...)`` returning an object with
    ``status_code``, ``json()``, ``text`` and ``headers`` (a ``requests.Session`` by default);
    HTTP 429/5xx and connection errors are retried with backoff ``backoff_s·2^(n-1)`` seconds
    (or the server's Retry-After);
    tests inject a fake. ``cache_dir=None`` uses :func:`default_cache_dir`; ``use_cache=False``
    disables the cache.
    """

    base_url: str = BASE_URL
    session: object | None = None
    cache_dir: Path | str | None = None
    use_cache: bool = True
    lang: str = "no"
    max_retries: int = 4  # retries after HTTP 429/5xx
    max_connect_retries: int = 2  # retries after connection errors/timeouts (offline fails fast)
    backoff_s: float = 2.0
    timeout_s: float = 60.0
    rate_limiter: RateLimiter | None = None
    sleep: Callable[[float], None] = time.sleep
    requests_made: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.session is None:
            import requests

            self.session = requests.Session()
            self.session.headers["User-Agent"] = "regio-toolkit (geoproc.data.ssb_client)"
        self.cache_dir = Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()
        if self.rate_limiter is None:
            self.rate_limiter = RateLimiter(sleep=self.sleep)

    # -- request building
    def data_url(self, table: str) -> str:
        return f"{self.base_url.rstrip('/')}/tables/{table}/data"

    def query_params(self, value_codes: Mapping[str, object], codelist: Mapping[str, str] | None = None
                     ) -> list[tuple[str, str]]:
        """Query parameters: lang, outputFormat=json-stat2, valueCodes[Var]=..., codelist[Var]=..."""
        params = [("lang", self.lang), ("outputFormat", "json-stat2")]
        params += [(f"valueCodes[{var}]", _join(v)) for var, v in value_codes.items()]
        params += [(f"codelist[{var}]", str(v)) for var, v in (codelist or {}).items()]
        return params

    def cache_path(self, url: str, params: Sequence[tuple[str, str]]) -> Path:
        key = hashlib.sha256((url + "?" + urlencode(sorted(params))).encode()).hexdigest()[:32]
        table = url.rstrip("/").split("/")[-2]
        return Path(self.cache_dir) / f"{table}_{key}.json"

    # -- fetching
    def get_json(self, table: str, value_codes: Mapping[str, object], codelist: Mapping[str, str] | None = None,
                 refresh: bool = False) -> dict:
        """The JSON-stat2 document for a query (from the cache when present, unless ``refresh``)."""
        url, params = self.data_url(table), self.query_params(value_codes, codelist)
        path = self.cache_path(url, params)
        if self.use_cache and not refresh and path.is_file():
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pass  # corrupt cache entry: fetch again and overwrite
        doc = self._request(url, params, table)
        if self.use_cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as tmp:
                tmp.write_text(json.dumps(doc), encoding="utf-8")
        return doc

    def _request(self, url: str, params: list[tuple[str, str]], table: str) -> dict:
        import requests

        last, retry_after, connect_failures = "", None, 0
        for attempt in range(self.max_retries + 1):
            if connect_failures > self.max_connect_retries:
                break
            if attempt:
                self.sleep(self._backoff(attempt, retry_after))
            retry_after = None
            self.rate_limiter.wait()
            self.requests_made += 1
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout_s)
            except (requests.ConnectionError, requests.Timeout, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                connect_failures += 1
                continue
            if resp.status_code == 200:
                try:
                    return resp.json()
                except ValueError:
                    raise InputError(f"SSB table {table}: the answer is not JSON; the API may have changed. "
                                     "Try again later or use --data-dir with local files.") from None
            if resp.status_code in RETRY_STATUS:
                last = f"HTTP {resp.status_code}"
                retry_after = (getattr(resp, "headers", None) or {}).get("Retry-After")
                continue
            raise InputError(f"SSB rejected the query for table {table} (HTTP {resp.status_code}): "
                             f"{str(resp.text)[:300]}. Check the variable and value codes against "
                             f"{self.base_url}/tables/{table}/metadata.")
        if last.startswith("HTTP"):
            raise InputError(f"SSB answered {last} to {self.max_retries + 1} attempts for table {table} "
                             "(busy or rate-limited); try again later or use --data-dir with local files.")
        raise InputError(OFFLINE_HINT.format(detail=last))

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        """Seconds before retry ``attempt`` (1, 2, ...): Retry-After when given, else 2^(n-1)·backoff."""
        if retry_after:
            try:
                return float(retry_after)
            except ValueError:
                pass
        return self.backoff_s * 2 ** (attempt - 1)

    def fetch(self, table: str, value_codes: Mapping[str, object], codelist: Mapping[str, str] | None = None,
              refresh: bool = False, drop_missing: bool = True) -> pd.DataFrame:
        """Tidy DataFrame (dimension codes, ``<dim>_label``, ``value``) for a query."""
        return parse_jsonstat2(self.get_json(table, value_codes, codelist, refresh), drop_missing=drop_missing)


# --------------------------------------------------------------------------- convenience tables
def _years(years: Iterable[int] | int) -> list[int]:
    out = sorted({int(y) for y in ([years] if isinstance(years, (int, np.integer)) else years)})
    if not out:
        raise InputError("no years given; pass e.g. years=[2020, 2021].")
    return out


def _keep_kommuner(df: pd.DataFrame, code_cols: Sequence[str]) -> pd.DataFrame:
    """Keep rows whose codes are kommuner of their year's code system; list the rest in attrs."""
    keep = pd.Series(True, index=df.index)
    dropped: set[str] = set()
    for year, rows in df.groupby("year").groups.items():
        known = kc.known_codes(kc.system_for_year(year))
        for col in code_cols:
            ok = df.loc[rows, col].isin(known)
            keep.loc[rows] &= ok
            dropped |= set(df.loc[rows, col][~ok])
    out = df[keep].reset_index(drop=True)
    out.attrs["dropped_codes"] = sorted(dropped)
    return out


def _client(client: SSBClient | None) -> SSBClient:
    return client if client is not None else SSBClient()


def _age(code: str) -> int:
    return int(str(code).rstrip("+"))


def fetch_population_by_age_sex(years: Iterable[int] | int, kommuner: Iterable[str] | None = None,
                                client: SSBClient | None = None) -> pd.DataFrame:
    """Population 1 January (SSB 07459): year, kommune, sex, age (0..105, 105 = 105+), population.

    Kommune codes are those valid in each year (not harmonised); use
    :func:`geoproc.data.codes.harmonise` to bring several years to one code system.
    """
    raw = _client(client).fetch(TABLES["population"], {
        "Region": "????" if kommuner is None else list(kommuner), "Kjonn": ["1", "2"], "Alder": "*",
        "ContentsCode": "Personer1", "Tid": _years(years)})
    df = pd.DataFrame({"year": raw["Tid"].astype(int), "kommune": raw["Region"],
                       "sex": raw["Kjonn"].map({"1": "male", "2": "female"}),
                       "age": raw["Alder"].map(_age), "population": raw["value"]})
    df = _keep_kommuner(df, ["kommune"])
    dropped = df.attrs["dropped_codes"]
    out = tables.validate_population_age_sex(df)
    out.attrs["dropped_codes"] = dropped
    return out


def fetch_population_change(years: Iterable[int] | int, kommuner: Iterable[str] | None = None,
                            client: SSBClient | None = None) -> pd.DataFrame:
    """Population change components (SSB 06913) in long form:
    year, kommune, variable (SSB ContentsCode), label, value (persons)."""
    raw = _client(client).fetch(TABLES["population_change"], {
        "Region": "????" if kommuner is None else list(kommuner), "ContentsCode": "*", "Tid": _years(years)})
    df = pd.DataFrame({"year": raw["Tid"].astype(int), "kommune": raw["Region"], "variable": raw["ContentsCode"],
                       "label": raw["ContentsCode_label"], "value": raw["value"]})
    df = _keep_kommuner(df, ["kommune"])
    dropped = df.attrs["dropped_codes"]
    tables.check_unique(df, ["year", "kommune", "variable"], "SSB 06913 population change")
    df.attrs["dropped_codes"] = dropped
    return df


EMPLOYMENT_CONTENTS = {"BefolkningBosted": "population_15_74", "SysselBosted": "employed_by_residence",
                       "SysselArbsted": "employed_by_workplace"}


def fetch_employment(years: Iterable[int] | int, kommuner: Iterable[str] | None = None,
                     client: SSBClient | None = None) -> pd.DataFrame:
    """Employment 4th quarter, ages 15–74 (SSB 11618): year, kommune, population_15_74,
    employed_by_residence, employed_by_workplace (persons)."""
    raw = _client(client).fetch(TABLES["employment"], {
        "Region": "????" if kommuner is None else list(kommuner), "Kjonn": "0", "Alder": "15-74",
        "ContentsCode": list(EMPLOYMENT_CONTENTS), "Tid": _years(years)})
    long = pd.DataFrame({"year": raw["Tid"].astype(int), "kommune": raw["Region"],
                         "variable": raw["ContentsCode"].map(EMPLOYMENT_CONTENTS), "value": raw["value"]})
    wide = long.pivot_table(index=["year", "kommune"], columns="variable", values="value", aggfunc="sum")
    missing = [c for c in EMPLOYMENT_CONTENTS.values() if c not in wide.columns]
    if missing:
        raise InputError(f"SSB 11618 answer lacks {', '.join(missing)}; the table's content codes may have "
                         "changed. Check its metadata or use --data-dir with local files.")
    wide = wide.reset_index()[["year", "kommune", *EMPLOYMENT_CONTENTS.values()]]
    wide = wide.dropna(subset=list(EMPLOYMENT_CONTENTS.values()), how="all").fillna(0)
    wide = _keep_kommuner(wide, ["kommune"])
    dropped = wide.attrs["dropped_codes"]
    out = tables.validate_employment(wide)
    out.attrs["dropped_codes"] = dropped
    return out


def fetch_commuting(years: Iterable[int] | int, client: SSBClient | None = None) -> pd.DataFrame:
    """Commuting matrix 4th quarter (SSB 03321): year, home_kommune, work_kommune, employed
    (persons; zero cells dropped). One request per year (356² cells each, below SSB's limit)."""
    client = _client(client)
    frames = []
    for year in _years(years):
        raw = client.fetch(TABLES["commuting"], {"Bokommuen": "????", "ArbstedKomm": "????",
                                                 "ContentsCode": "Sysselsatte", "Tid": [year]})
        frames.append(pd.DataFrame({"year": raw["Tid"].astype(int), "home_kommune": raw["Bokommuen"],
                                    "work_kommune": raw["ArbstedKomm"], "employed": raw["value"]}))
    df = pd.concat(frames, ignore_index=True)
    df = df[df["employed"] > 0]
    df = _keep_kommuner(df, ["home_kommune", "work_kommune"])
    dropped = df.attrs["dropped_codes"]
    out = tables.validate_commuting(df)
    out.attrs["dropped_codes"] = dropped
    return out

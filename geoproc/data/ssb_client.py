"""Client for Statistics Norway's statistics bank API, PxWebApi v2 (JSON-stat2 output).

Query syntax (SSB's user guide https://www.ssb.no/en/api/statbank-pxwebapi-user-guide and the
PxWebApi 2 spec, github.com/PxTools/PxApiSpecs): a GET on
``{BASE_URL}/tables/{table}/data?lang=no&outputFormat=json-stat2&valueCodes[Var]=a,b`` where
each ``valueCodes[...]`` selects codes of one variable; ``*`` and ``?`` mask characters
(``????`` = every 4-character code, i.e. kommuner in a Region variable), ``top(n)`` the n last
periods; ``codelist[Var]=...`` picks a value set or aggregation (e.g. ``agg_KommSummer``).
Limits published by SSB: 800 000 cells per query, 30 queries per 60 s per IP address
(https://data.ssb.no/api/pxwebapi/v2/config); the client rate-limits itself to that by default.

Robustness (issue 13):

- **Retries are bounded in time.** HTTP 429/5xx and connection errors are retried with
  exponential backoff or the server's ``Retry-After`` (seconds or an HTTP date). A
  ``Retry-After`` longer than ``max_retry_after_s`` (default :data:`MAX_RETRY_AFTER_S`) is not
  obeyed: the client stops at once with a clear error. The whole retry loop of one request stops
  before it would exceed ``max_retry_total_s`` (default :data:`MAX_RETRY_TOTAL_S`). Both can be
  set per client or with ``$REGIO_SSB_MAX_RETRY_AFTER_S`` / ``$REGIO_SSB_MAX_RETRY_TOTAL_S``;
  ``$REGIO_SSB_URL`` replaces the base URL (a mirror, or a test server).
- **The answer is checked against the question before it is parsed** (:func:`check_answer`):
  its dimensions, the codes of every variable asked for by explicit codes (years in ``Tid``,
  content codes, kommuner), the shape of codes asked for with a mask (``????`` = 4 characters;
  ages must be ages), and, for kommune masks, that every kommune of the year's code system is
  there. The error says which of these differed. Answers that fail are never cached.
- **Parsing** uses the ``pyjstat`` library (JSON-stat 1 and 2, dense and sparse values).

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
(JSON-stat ``null``, SSB's '..') are dropped too. In 2019 some SSB tables give Rindal as 5061
(its 2020 code); the 2018 code system used for 2019 (:mod:`geoproc.data.codes`) has 1567, so a
2019 row of 5061 is read as 1567 (listed in ``df.attrs['recoded_codes']``).
"""
from __future__ import annotations

import datetime as _dt
import email.utils
import hashlib
import json
import math
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from pyjstat import pyjstat

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
#: Longest ``Retry-After`` (seconds) the client obeys; longer requests stop the run at once.
MAX_RETRY_AFTER_S = 120.0
#: Longest total time (seconds) one request may spend waiting between its retries.
MAX_RETRY_TOTAL_S = 300.0
#: 2019 answers may give Rindal under its 2020 code; the 2018 code system keeps 1567 for 2019.
_ALIASES = {2019: {"5061": "1567"}}
_MAX_LISTED = 10


def default_cache_dir() -> Path:
    """The cache folder of SSB answers.

    Returns
    -------
    pathlib.Path
        ``$REGIO_CACHE_DIR/ssb`` or ``~/.cache/regio/ssb``.
    """
    root = os.environ.get("REGIO_CACHE_DIR")
    return Path(root).expanduser() / "ssb" if root else Path.home() / ".cache" / "regio" / "ssb"


def _env_seconds(name: str, default: float) -> float:
    """A positive number of seconds from the environment variable ``name`` (else ``default``)."""
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise InputError(f"${name} = {text!r} is not a number of seconds >= 0; unset it or give e.g. {default:g}.")
    return value


def _listing(values: Iterable, limit: int = _MAX_LISTED) -> str:
    values = list(values)
    text = ", ".join(str(v) for v in values[:limit])
    return text + (f" (+{len(values) - limit} more)" if len(values) > limit else "")


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
        """Block until a call is allowed and record it.

        Returns
        -------
        float
            The seconds waited.
        """
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
    cat = dim.get("category", {}) if isinstance(dim, Mapping) else {}
    index = cat.get("index")
    if index is None:  # a single category may be given by its label only
        return [str(c) for c in cat.get("label", {}).keys()]
    if isinstance(index, list):
        return [str(c) for c in index]
    return [str(c) for c, _ in sorted(index.items(), key=lambda kv: kv[1])]


def check_structure(doc: Mapping) -> tuple[list[str], dict[str, list[str]]]:
    """Check that a document is a complete JSON-stat2 dataset.

    InputError when it is not a dataset, lacks ``id``/``size``/``dimension``, when the sizes do
    not match the categories, or when the number of values does not match the cells.

    Parameters
    ----------
    doc : mapping
        The parsed JSON answer.

    Returns
    -------
    ids : list of str
        The dimension ids in order.
    codes : dict
        Dimension id -> category codes in index order.
    """
    if not isinstance(doc, Mapping) or doc.get("class") != "dataset":
        raise InputError("response is not a JSON-stat2 dataset (class 'dataset' missing); ask for "
                         "outputFormat=json-stat2.")
    try:
        ids, sizes, dims = [str(i) for i in doc["id"]], [int(s) for s in doc["size"]], doc["dimension"]
    except KeyError as exc:
        raise InputError(f"JSON-stat2 dataset lacks '{exc.args[0]}'; the response is incomplete.") from None
    except (TypeError, ValueError):
        raise InputError("JSON-stat2 dataset has a malformed 'id' or 'size'; the response is damaged. "
                         "Try again (add refresh) or use --data-dir with local files.") from None
    missing = [i for i in ids if not isinstance(dims, Mapping) or i not in dims]
    if missing or not ids:
        raise InputError(f"JSON-stat2 dataset names dimension(s) {', '.join(missing) or '(none)'} without "
                         "describing them; the response is incomplete.")
    codes = {i: _category_codes(dims[i]) for i in ids}
    if [len(codes[i]) for i in ids] != sizes:
        raise InputError(f"JSON-stat2 dataset is inconsistent: size {sizes} but categories "
                         f"{[len(codes[i]) for i in ids]}.")
    n = int(np.prod(sizes))
    raw = doc.get("value", [])
    if isinstance(raw, Mapping):
        bad = [p for p in raw if not str(p).isdigit() or int(p) >= n]
        if bad:
            raise InputError(f"JSON-stat2 dataset has values at positions {_listing(bad)} outside its {n} cells; "
                             "the response is damaged.")
    elif not isinstance(raw, list) or len(raw) != n:
        count = len(raw) if isinstance(raw, list) else 0
        raise InputError(f"JSON-stat2 dataset has {count} values for {n} cells; the response is truncated.")
    return ids, codes


def parse_jsonstat2(doc: Mapping, drop_missing: bool = True) -> pd.DataFrame:
    """JSON-stat2 dataset -> tidy DataFrame; the dataset is decoded by ``pyjstat``.

    Values are in row-major order over ``id`` (last dimension fastest), as the JSON-stat 2.0
    format prescribes; sparse ``value`` objects ({"position": value}) are supported. The structure
    is checked first (:func:`check_structure`), so a truncated answer is an InputError, not a
    pandas error. ``pyjstat`` decodes the categories of each dimension (in index order, with
    labels) and the values (dense or sparse); the rows are the product of the categories, built
    with ``pandas.MultiIndex.from_product``: the row order of pyjstat's own
    ``Dataset.write("dataframe")`` (the tests check it is identical), without its per-row Python
    generator, which needs seconds for one 356 × 356 commuting matrix.

    Parameters
    ----------
    doc : mapping
        The JSON-stat2 dataset.
    drop_missing : bool, default True
        Drop cells whose value is missing (JSON ``null``).

    Returns
    -------
    pandas.DataFrame
        One column per dimension with the category code (named like the dimension id, e.g.
        ``Region``), one ``<id>_label`` column with the category label, and ``value`` (float64).
    """
    ids, _ = check_structure(doc)
    dataset = pyjstat.Dataset(doc)
    categories = [pyjstat.get_dim_label(dataset, i) for i in ids]  # id, label, index; sorted by index
    values = pyjstat.get_values(dataset)
    frame = pd.MultiIndex.from_product([c["id"].astype(str).tolist() for c in categories], names=ids).to_frame(
        index=False)
    for i, cat in zip(ids, categories):
        labels = dict(zip(cat["id"].astype(str), cat["label"].astype(str)))
        frame[f"{i}_label"] = frame[i].map(labels)
    frame["value"] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype("float64").to_numpy()
    if drop_missing:
        frame = frame[frame["value"].notna()].reset_index(drop=True)
    return frame


# ------------------------------------------------------------------------- answer vs. question
def _as_codes(values: object) -> list[str]:
    if isinstance(values, (str, int, np.integer)):
        return [s.strip() for s in str(values).split(",")]
    return [str(v) for v in values]


def _is_mask(code: str) -> bool:
    return "*" in code or "?" in code or code.lower().startswith(("top(", "from(", "to(", "range("))


def _mask_regex(code: str) -> re.Pattern | None:
    """Regex for a ``*``/``?`` mask; None for top()/from()/... selections (not checkable by shape)."""
    if code.lower().startswith(("top(", "from(", "to(", "range(")):
        return None
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in code))


@dataclass(frozen=True)
class Expect:
    """What an answer must look like beyond the query itself.

    ``patterns``: dimension id -> regex every code must match (e.g. ages ``\\d{1,3}\\+?``);
    ``kommune_dims``: dimensions holding kommune codes; when asked for with a mask, every kommune
    of each requested year's code system must be among the answer's codes (``complete``).
    """

    patterns: Mapping[str, str] = field(default_factory=dict)
    kommune_dims: tuple[str, ...] = ()
    complete: bool = True


def _requested_years(value_codes: Mapping[str, object]) -> list[int] | None:
    tid = value_codes.get("Tid")
    if tid is None:
        return None
    codes = _as_codes(tid)
    if any(_is_mask(c) for c in codes) or not all(c.isdigit() for c in codes):
        return None
    return sorted({int(c) for c in codes})


def check_answer(doc: Mapping, table: str, value_codes: Mapping[str, object], expect: Expect | None = None) -> None:
    """Raise InputError when an answer does not fit its query; checked **before** parsing.

    Compared: the dimensions (every variable asked for must be there; an extra variable may only
    have one category); the codes of every variable asked for by explicit codes (missing and
    unexpected codes are named; for ``Tid`` they are called years); codes asked for with a mask
    must match it (``????`` = 4 characters) and ``expect.patterns``; for ``expect.kommune_dims``
    every kommune of each year's code system (mask) or each kommune asked for (list) must be present
    and have a value. The message names the table, what differed and the fix.

    Parameters
    ----------
    doc : mapping
        The JSON-stat2 answer.
    table : str
        The SSB table id, e.g. "11618".
    value_codes : mapping
        The query: variable -> codes (a list, a comma-separated string or a mask).
    expect : Expect, optional
        Code patterns and kommune dimensions of the table.
    """
    expect = expect or Expect()
    ids, codes = check_structure(doc)
    where = f"SSB table {table}: the answer does not fit the query"
    fix = ("The table may have changed or the answer is incomplete: check the table's variables at "
           f"https://data.ssb.no/api/pxwebapi/v2/tables/{table}/metadata, try again later (refresh), or use "
           "--data-dir with local files.")
    asked = [str(v) for v in value_codes]
    missing = [v for v in asked if v not in ids]
    extra = [i for i in ids if i not in asked and len(codes[i]) > 1]
    if missing or extra:
        parts = [f"dimensions asked for: {', '.join(asked)}", f"in the answer: {', '.join(ids)}"]
        if missing:
            parts.append(f"missing: {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected: {', '.join(extra)}")
        raise InputError(f"{where} (dimensions differ; {'; '.join(parts)}). {fix}")
    for var in asked:
        wanted, got = _as_codes(value_codes[var]), codes[var]
        masks = [w for w in wanted if _is_mask(w)]
        label = "years" if var == "Tid" else f"{var} codes"
        if not masks:
            lacking = [w for w in wanted if w not in set(got)]
            surplus = [g for g in got if g not in set(wanted)]
            if lacking or surplus:
                text = f"{label} asked for: {_listing(wanted)}; in the answer: {_listing(got)}"
                if lacking:
                    text += f"; missing: {_listing(lacking)}"
                if surplus:
                    text += f"; not asked for: {_listing(surplus)}"
                raise InputError(f"{where} ({label} differ; {text}). {fix}")
        else:
            regexes = [r for r in map(_mask_regex, masks) if r is not None]
            explicit = set(wanted) - set(masks)
            off = [g for g in got if regexes and g not in explicit and not any(r.fullmatch(g) for r in regexes)]
            if off:
                raise InputError(f"{where} ({label} do not match the mask {', '.join(masks)}: {_listing(off)}). {fix}")
        pattern = expect.patterns.get(var)
        if pattern:
            off = [g for g in got if not re.fullmatch(pattern, g)]
            if off:
                raise InputError(f"{where} ({label} are not of the expected form {pattern!r}: {_listing(off)}; "
                                 f"the table's {var} variable has other categories than this client reads). {fix}")
    years = _requested_years(value_codes)
    if not years or "Tid" not in ids:
        return
    values = _dense_values(doc, int(np.prod([len(codes[i]) for i in ids])))
    has = ~np.isnan(values.reshape([len(codes[i]) for i in ids]))
    t_axis = ids.index("Tid")
    for var in expect.kommune_dims:
        if var not in value_codes:
            continue
        wanted = _as_codes(value_codes[var])
        masked = any(_is_mask(w) for w in wanted)
        if masked and not expect.complete:
            continue
        axis = ids.index(var)
        filled = np.moveaxis(has, [axis, t_axis], [0, 1]).reshape(len(codes[var]), len(codes["Tid"]), -1).any(axis=2)
        position = {c: k for k, c in enumerate(codes[var])}
        for t, year in enumerate(int(y) for y in codes["Tid"]):
            system = kc.system_for_year(year)
            known = kc.known_codes(system)
            needed = known if masked else set(wanted)
            aliases = _ALIASES.get(year, {})
            sources = {c: [c] + [a for a, b in aliases.items() if b == c] for c in needed}
            absent = sorted(c for c in needed if not any(s in position for s in sources[c]))
            if absent and masked:
                raise InputError(
                    f"{where} ({var}: the answer covers {len(needed) - len(absent)} of the {len(needed)} kommuner of "
                    f"the {system} code system for {year}; missing: {_listing(absent)}). A run on part of the "
                    "country would be silently wrong. Try again later (refresh), or use --data-dir with local files.")
            empty = sorted(c for c in needed if not any(s in position and filled[position[s], t] for s in sources[c]))
            if empty:
                raise InputError(
                    f"{where} ({var}: no values for {len(empty)} of the {len(needed)} kommuner needed in {year}: "
                    f"{_listing(empty)}; SSB gives them as missing ('..' / null)). A run on part of the country "
                    "would be silently wrong. Try again later (refresh), ask for the kommuner that have data, or use "
                    "--data-dir with local files.")


def _dense_values(doc: Mapping, n: int) -> np.ndarray:
    """The answer's values as float64[n], NaN where missing (dense list or sparse mapping)."""
    raw = doc.get("value", [])
    out = np.full(n, np.nan)
    items = raw.items() if isinstance(raw, Mapping) else enumerate(raw)
    for pos, v in items:
        if v is not None:
            try:
                out[int(pos)] = float(v)
            except (TypeError, ValueError):
                raise InputError(f"JSON-stat2 dataset has a non-numeric value {v!r} at position {pos}; the "
                                 "response is damaged. Try again later or use --data-dir with local files.") from None
    return out


# -------------------------------------------------------------------------------------- client
def _join(values: str | int | Iterable) -> str:
    if isinstance(values, (str, int, np.integer)):
        return str(values)
    return ",".join(str(v) for v in values)


def parse_retry_after(value) -> float | None:
    """Seconds to wait from a ``Retry-After`` header.

    Parameters
    ----------
    value : str or None
        The header: a delay in seconds or an HTTP date.

    Returns
    -------
    float or None
        Seconds (>= 0), or None when absent or unreadable.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass
class SSBClient:
    """PxWebApi v2 client with on-disk cache, bounded retries and rate limiting.

    ``session`` is anything with ``get(url, params=..., timeout=...)`` returning an object with
    ``status_code``, ``json()``, ``text`` and ``headers`` (a ``requests.Session`` by default).
    HTTP 429/5xx are retried up to ``max_retries`` times, connection errors up to
    ``max_connect_retries`` times, with backoff ``backoff_s·2^(n-1)`` seconds or the server's
    Retry-After; a Retry-After above ``max_retry_after_s`` stops at once, and no retry is made
    that would take the waiting beyond ``max_retry_total_s`` (seconds, see the module docstring).
    ``clock``/``sleep`` are injectable (tests never sleep). ``cache_dir=None`` uses
    :func:`default_cache_dir`; ``use_cache=False`` disables the cache. ``base_url`` defaults to
    ``$REGIO_SSB_URL`` or :data:`BASE_URL`.
    """

    base_url: str = field(default_factory=lambda: os.environ.get("REGIO_SSB_URL") or BASE_URL)
    session: object | None = None
    cache_dir: Path | str | None = None
    use_cache: bool = True
    lang: str = "no"
    max_retries: int = 4  # retries after HTTP 429/5xx
    max_connect_retries: int = 2  # retries after connection errors/timeouts (offline fails fast)
    backoff_s: float = 2.0
    timeout_s: float = 60.0
    max_retry_after_s: float = field(default_factory=lambda: _env_seconds("REGIO_SSB_MAX_RETRY_AFTER_S",
                                                                          MAX_RETRY_AFTER_S))
    max_retry_total_s: float = field(default_factory=lambda: _env_seconds("REGIO_SSB_MAX_RETRY_TOTAL_S",
                                                                          MAX_RETRY_TOTAL_S))
    rate_limiter: RateLimiter | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    requests_made: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        for name in ("max_retry_after_s", "max_retry_total_s", "backoff_s", "timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise InputError(f"SSBClient {name} must be a number of seconds >= 0, got {value!r}.")
        if self.session is None:
            import requests

            self.session = requests.Session()
            self.session.headers["User-Agent"] = "regio-toolkit (geoproc.data.ssb_client)"
        self.cache_dir = Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()
        if self.rate_limiter is None:
            self.rate_limiter = RateLimiter(clock=self.clock, sleep=self.sleep)

    # -- request building
    def data_url(self, table: str) -> str:
        """The data URL of a table.

        Parameters
        ----------
        table : str
            SSB table id.

        Returns
        -------
        str
        """
        return f"{self.base_url.rstrip('/')}/tables/{table}/data"

    def query_params(self, value_codes: Mapping[str, object], codelist: Mapping[str, str] | None = None
                     ) -> list[tuple[str, str]]:
        """Query parameters: lang, outputFormat=json-stat2, valueCodes[Var]=..., codelist[Var]=...

        Parameters
        ----------
        value_codes : mapping
            Variable -> codes (list, comma-separated string or mask).
        codelist : mapping, optional
            Variable -> value set or aggregation.

        Returns
        -------
        list of (str, str)
        """
        params = [("lang", self.lang), ("outputFormat", "json-stat2")]
        params += [(f"valueCodes[{var}]", _join(v)) for var, v in value_codes.items()]
        params += [(f"codelist[{var}]", str(v)) for var, v in (codelist or {}).items()]
        return params

    def cache_path(self, url: str, params: Sequence[tuple[str, str]]) -> Path:
        """The cache file of a query.

        Parameters
        ----------
        url : str
            The data URL.
        params : sequence of (str, str)
            The query parameters.

        Returns
        -------
        pathlib.Path
        """
        key = hashlib.sha256((url + "?" + urlencode(sorted(params))).encode()).hexdigest()[:32]
        table = url.rstrip("/").split("/")[-2]
        return Path(self.cache_dir) / f"{table}_{key}.json"

    # -- fetching
    def get_json(self, table: str, value_codes: Mapping[str, object], codelist: Mapping[str, str] | None = None,
                 refresh: bool = False, expect: Expect | None = None) -> dict:
        """The JSON-stat2 document for a query (from the cache when present, unless ``refresh``).

        The answer is checked against the query (:func:`check_answer`) before it is returned or
        cached; a cached answer that no longer passes is fetched again.

        Parameters
        ----------
        table : str
            SSB table id.
        value_codes : mapping
            Variable -> codes.
        codelist : mapping, optional
            Variable -> value set or aggregation.
        refresh : bool
            Ignore the cache.
        expect : Expect, optional
            What the answer must look like beyond the query.

        Returns
        -------
        dict
        """
        url, params = self.data_url(table), self.query_params(value_codes, codelist)
        path = self.cache_path(url, params)
        if self.use_cache and not refresh and path.is_file():
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                check_answer(doc, table, value_codes, expect)
                return doc
            except (OSError, ValueError):
                pass  # corrupt or outdated cache entry (InputError is a ValueError): fetch again
        doc = self._request(url, params, table)
        check_answer(doc, table, value_codes, expect)
        if self.use_cache:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as tmp:
                tmp.write_text(json.dumps(doc), encoding="utf-8")
        return doc

    def _request(self, url: str, params: list[tuple[str, str]], table: str) -> dict:
        import requests

        start = self.clock()
        http_failures = connect_failures = 0
        last = ""
        while True:
            self.rate_limiter.wait()
            self.requests_made += 1
            retry_after = None
            try:
                resp = self.session.get(url, params=params, timeout=self.timeout_s)
            except (requests.ConnectionError, requests.Timeout, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
                connect_failures += 1
                if connect_failures > self.max_connect_retries:
                    raise InputError(OFFLINE_HINT.format(detail=last)) from None
            else:
                if resp.status_code == 200:
                    try:
                        return resp.json()
                    except ValueError:
                        raise InputError(f"SSB table {table}: the answer is not JSON; the API may have changed. "
                                         "Try again later or use --data-dir with local files.") from None
                if resp.status_code not in RETRY_STATUS:
                    raise InputError(f"SSB rejected the query for table {table} (HTTP {resp.status_code}): "
                                     f"{str(resp.text)[:300]}. Check the variable and value codes against "
                                     f"{self.base_url}/tables/{table}/metadata.")
                http_failures += 1
                last = f"HTTP {resp.status_code}"
                if http_failures > self.max_retries:
                    raise InputError(f"SSB answered {last} to {http_failures} attempts for table {table} "
                                     "(busy or rate-limited); try again later or use --data-dir with local files.")
                retry_after = parse_retry_after((getattr(resp, "headers", None) or {}).get("Retry-After"))
                if retry_after is not None and retry_after > self.max_retry_after_s:
                    raise InputError(
                        f"SSB answered {last} for table {table} and asks to wait {retry_after:,.0f} s (Retry-After) "
                        f"before trying again; this client waits at most {self.max_retry_after_s:g} s "
                        "(SSBClient(max_retry_after_s=...) or $REGIO_SSB_MAX_RETRY_AFTER_S). Try again later "
                        "or use --data-dir with local files.")
            failures = http_failures + connect_failures
            wait = retry_after if retry_after is not None else self.backoff_s * 2 ** (failures - 1)
            waited = self.clock() - start
            if waited + wait > self.max_retry_total_s and retry_after is None and not http_failures:
                raise InputError(OFFLINE_HINT.format(detail=f"{last}; gave up after {failures} attempt(s) within the "
                                                            f"total retry time of {self.max_retry_total_s:g} s"))
            if waited + wait > self.max_retry_total_s:
                raise InputError(
                    f"SSB table {table}: gave up after {failures + 0} failed attempt(s) ({last}) and {waited:,.0f} s; "
                    f"the next retry in {wait:,.0f} s would exceed the total retry time of "
                    f"{self.max_retry_total_s:g} s (SSBClient(max_retry_total_s=...) or "
                    "$REGIO_SSB_MAX_RETRY_TOTAL_S). Try again later or use --data-dir with local files.")
            self.sleep(wait)

    def fetch(self, table: str, value_codes: Mapping[str, object], codelist: Mapping[str, str] | None = None,
              refresh: bool = False, drop_missing: bool = True, expect: Expect | None = None) -> pd.DataFrame:
        """Tidy table for a query, checked against the query before parsing (:func:`check_answer`).

        Parameters
        ----------
        table : str
            SSB table id.
        value_codes : mapping
            Variable -> codes.
        codelist : mapping, optional
            Variable -> value set or aggregation.
        refresh : bool
            Ignore the cache.
        drop_missing : bool
            Drop missing cells.
        expect : Expect, optional
            What the answer must look like beyond the query.

        Returns
        -------
        pandas.DataFrame
            Dimension codes, ``<dim>_label`` and ``value`` (see :func:`parse_jsonstat2`).
        """
        return parse_jsonstat2(self.get_json(table, value_codes, codelist, refresh, expect=expect),
                               drop_missing=drop_missing)


# --------------------------------------------------------------------------- convenience tables
def _years(years: Iterable[int] | int) -> list[int]:
    try:
        out = sorted({int(y) for y in ([years] if isinstance(years, (int, np.integer)) else years)})
    except (TypeError, ValueError):
        raise InputError(f"years must be whole numbers (e.g. [2020, 2021]), got {years!r}.") from None
    if not out:
        raise InputError("no years given; pass e.g. years=[2020, 2021].")
    for y in out:
        kc.system_for_year(y)  # years before the first code list: clear error before any request
    return out


def _recode_aliases(df: pd.DataFrame, code_cols: Sequence[str]) -> list[str]:
    """Apply :data:`_ALIASES` (e.g. Rindal 5061 -> 1567 in 2019) in place; returns what was recoded."""
    done = []
    for year, aliases in _ALIASES.items():
        rows = df["year"] == year
        for col in code_cols:
            hit = rows & df[col].isin(list(aliases))
            if hit.any():
                done += [f"{year} {old}->{aliases[old]}" for old in sorted(set(df.loc[hit, col]))]
                df.loc[hit, col] = df.loc[hit, col].map(aliases)
    return sorted(set(done))


def _keep_kommuner(df: pd.DataFrame, code_cols: Sequence[str], need: Iterable[str] | str | None = None,
                   what: str = "SSB answer") -> pd.DataFrame:
    """Keep rows whose codes are kommuner of their year's code system; list the rest in attrs.

    ``need``: ``"system"`` = every kommune of each year's code system must have a value; a list
    of codes = each of them must (kommuner asked for by name); None = no check. A needed kommune
    whose cells are all missing is an InputError naming it.
    """
    df = df.copy()
    recoded = _recode_aliases(df, code_cols)
    keep = pd.Series(True, index=df.index)
    dropped: set[str] = set()
    for year, rows in df.groupby("year").groups.items():
        system = kc.system_for_year(year)
        known = kc.known_codes(system)
        wanted = None if need is None else known if isinstance(need, str) else set(need)
        if wanted is not None and wanted - known:
            raise InputError(f"{what}: {_listing(sorted(wanted - known))} are not kommuner of the {system} code "
                             f"system used for {year}; ask for codes valid in {year} (see geoproc.data.codes).")
        for col in code_cols:
            ok = df.loc[rows, col].isin(known)
            keep.loc[rows] &= ok
            dropped |= set(df.loc[rows, col][~ok])
            lacking = sorted((wanted or set()) - set(df.loc[rows, col]))
            if lacking:
                raise InputError(f"{what}: {col} has no values for {len(lacking)} of the {len(wanted)} kommuner "
                                 f"needed in {year} ({_listing(lacking)}); a run on part of the country would be "
                                 "silently wrong. Try again later (refresh) or use --data-dir with local files.")
    out = df[keep].reset_index(drop=True)
    out.attrs["dropped_codes"] = sorted(dropped)
    out.attrs["recoded_codes"] = recoded
    return out


def _need(kommuner, complete: bool):
    """What :func:`_keep_kommuner` requires: the kommuner asked for, or the whole code system."""
    if kommuner is not None:
        return [str(k) for k in kommuner]
    return "system" if complete else None


def _client(client: SSBClient | None) -> SSBClient:
    return client if client is not None else SSBClient()


def _age(code: str) -> int:
    return int(str(code).rstrip("+"))


def _region(kommuner: Iterable[str] | None) -> str | list[str]:
    if kommuner is None:
        return "????"
    codes = [str(k) for k in kommuner]
    if not codes:
        raise InputError("kommuner is empty; pass None for all kommuner or a list of 4-digit codes.")
    bad = [k for k in codes if not re.fullmatch(r"\d{4}", k)]
    if bad:
        raise InputError(f"kommuner {_listing(bad)} are not 4-digit kommune codes ('0301'); fix the list.")
    return codes


def _attrs(out: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    for key in ("dropped_codes", "recoded_codes"):
        out.attrs[key] = source.attrs.get(key, [])
    return out


def fetch_population_by_age_sex(years: Iterable[int] | int, kommuner: Iterable[str] | None = None,
                                client: SSBClient | None = None, complete: bool = True) -> pd.DataFrame:
    """Population 1 January by age and sex (SSB 07459).

    Kommune codes are those valid in each year (not harmonised); use
    :func:`geoproc.data.codes.harmonise` to bring several years to one code system.

    Parameters
    ----------
    years : int or iterable of int
        Years (1 January for population, 4th quarter for employment); 2017 or later.
    kommuner : iterable of str, optional
        4-digit kommune codes valid in those years (default: every kommune, ``????``).
    client : SSBClient, optional
        The client (default: a new one with the default cache).
    complete : bool, default True
        With ``kommuner=None``, require every kommune of each year's code system in the answer.

    Returns
    -------
    pandas.DataFrame
        year, kommune, sex, age (0..105, 105 = 105+), population (persons); attrs list the
        dropped and recoded codes.
    """
    raw = _client(client).fetch(TABLES["population"], {
        "Region": _region(kommuner), "Kjonn": ["1", "2"], "Alder": "*",
        "ContentsCode": "Personer1", "Tid": _years(years)},
        expect=Expect(patterns={"Alder": r"\d{1,3}\+?"}, kommune_dims=("Region",), complete=complete))
    df = pd.DataFrame({"year": raw["Tid"].astype(int), "kommune": raw["Region"],
                       "sex": raw["Kjonn"].map({"1": "male", "2": "female"}),
                       "age": raw["Alder"].map(_age), "population": raw["value"]})
    df = _keep_kommuner(df, ["kommune"], _need(kommuner, complete), "SSB 07459 population")
    return _attrs(tables.validate_population_age_sex(df), df)


def fetch_population_change(years: Iterable[int] | int, kommuner: Iterable[str] | None = None,
                            client: SSBClient | None = None, complete: bool = True) -> pd.DataFrame:
    """Population change components (SSB 06913) in long form.

    Parameters
    ----------
    years : int or iterable of int
        Years (1 January for population, 4th quarter for employment); 2017 or later.
    kommuner : iterable of str, optional
        4-digit kommune codes valid in those years (default: every kommune, ``????``).
    client : SSBClient, optional
        The client (default: a new one with the default cache).
    complete : bool, default True
        With ``kommuner=None``, require every kommune of each year's code system in the answer.

    Returns
    -------
    pandas.DataFrame
        year, kommune, variable (SSB ContentsCode), label, value (persons).
    """
    raw = _client(client).fetch(TABLES["population_change"], {
        "Region": _region(kommuner), "ContentsCode": "*", "Tid": _years(years)},
        expect=Expect(kommune_dims=("Region",), complete=complete))
    df = pd.DataFrame({"year": raw["Tid"].astype(int), "kommune": raw["Region"], "variable": raw["ContentsCode"],
                       "label": raw["ContentsCode_label"], "value": raw["value"]})
    df = _keep_kommuner(df, ["kommune"], _need(kommuner, complete), "SSB 06913 population change")
    tables.check_unique(df, ["year", "kommune", "variable"], "SSB 06913 population change")
    return df


EMPLOYMENT_CONTENTS = {"BefolkningBosted": "population_15_74", "SysselBosted": "employed_by_residence",
                       "SysselArbsted": "employed_by_workplace"}


def fetch_employment(years: Iterable[int] | int, kommuner: Iterable[str] | None = None,
                     client: SSBClient | None = None, complete: bool = True) -> pd.DataFrame:
    """Employment 4th quarter, ages 15–74 (SSB 11618).

    Parameters
    ----------
    years : int or iterable of int
        Years (1 January for population, 4th quarter for employment); 2017 or later.
    kommuner : iterable of str, optional
        4-digit kommune codes valid in those years (default: every kommune, ``????``).
    client : SSBClient, optional
        The client (default: a new one with the default cache).
    complete : bool, default True
        With ``kommuner=None``, require every kommune of each year's code system in the answer.

    Returns
    -------
    pandas.DataFrame
        year, kommune, population_15_74, employed_by_residence, employed_by_workplace (persons).
    """
    raw = _client(client).fetch(TABLES["employment"], {
        "Region": _region(kommuner), "Kjonn": "0", "Alder": "15-74",
        "ContentsCode": list(EMPLOYMENT_CONTENTS), "Tid": _years(years)},
        expect=Expect(kommune_dims=("Region",), complete=complete))
    long = pd.DataFrame({"year": raw["Tid"].astype(int), "kommune": raw["Region"],
                         "variable": raw["ContentsCode"].map(EMPLOYMENT_CONTENTS), "value": raw["value"]})
    wide = long.pivot_table(index=["year", "kommune"], columns="variable", values="value", aggfunc="sum")
    missing = [c for c in EMPLOYMENT_CONTENTS.values() if c not in wide.columns]
    if missing:
        raise InputError(f"SSB 11618 answer lacks {', '.join(missing)}; the table's content codes may have "
                         "changed. Check its metadata or use --data-dir with local files.")
    wide = wide.reset_index()[["year", "kommune", *EMPLOYMENT_CONTENTS.values()]]
    wide = wide.dropna(subset=list(EMPLOYMENT_CONTENTS.values()), how="all").fillna(0)
    wide = _keep_kommuner(wide, ["kommune"], _need(kommuner, complete), "SSB 11618 employment")
    return _attrs(tables.validate_employment(wide), wide)


def fetch_commuting(years: Iterable[int] | int, client: SSBClient | None = None,
                    complete: bool = True) -> pd.DataFrame:
    """Commuting matrix 4th quarter (SSB 03321); one request per year (356² cells, below SSB's limit).

    Parameters
    ----------
    years : int or iterable of int
        Years, 2017 or later.
    client : SSBClient, optional
        The client (default: a new one with the default cache).
    complete : bool, default True
        Require both kommune dimensions to hold every kommune of the year.

    Returns
    -------
    pandas.DataFrame
        year, home_kommune, work_kommune, employed (persons; zero cells dropped).
    """
    client = _client(client)
    frames = []
    for year in _years(years):
        raw = client.fetch(TABLES["commuting"], {"Bokommuen": "????", "ArbstedKomm": "????",
                                                 "ContentsCode": "Sysselsatte", "Tid": [year]},
                           expect=Expect(kommune_dims=("Bokommuen", "ArbstedKomm"), complete=complete))
        frames.append(pd.DataFrame({"year": raw["Tid"].astype(int), "home_kommune": raw["Bokommuen"],
                                    "work_kommune": raw["ArbstedKomm"], "employed": raw["value"]}))
    df = pd.concat(frames, ignore_index=True)
    df = df[df["employed"] > 0]
    df = _keep_kommuner(df, ["home_kommune", "work_kommune"])
    return _attrs(tables.validate_commuting(df), df)

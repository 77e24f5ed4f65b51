"""Coefficient sets of the net migration model (MODEL.md §2.3).

Net migration (fraction of start-of-year population) =
``intercept + b0·VRA_t + b1·VRA_t-1 + b2·VRA_t-2 + b_c·sentny + b_ssb·ssb_index + b_ds·DS``.
All regressors are fractions (VRA, DS) or index/1000 centred (sentny, ssb_index).
The published estimates (R lm on 73 regions × 2003–2021) ship as ``PUBLISHED_MODELS``;
``DEFAULT`` is model 4 (the current model). User estimates (``estimate.py``) round-trip through
``save_params``/``load_params`` (JSON) or ``params_from_table`` (the coefficient table).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import pandas as pd

from centrality.errors import InputError
from centrality.fileio import atomic_write
from geoproc.data.tables import check_table

#: Regression terms in the published order; the column names used by ``expected.py``.
TERMS: tuple[str, ...] = ("intercept", "vra_t", "vra_t1", "vra_t2", "ssb_index", "sentny", "ds")
#: Labels as printed in MODEL.md's coefficient table.
TERM_LABELS: Mapping[str, str] = MappingProxyType({
    "intercept": "intercept", "vra_t": "VRA_t", "vra_t1": "VRA_t-1", "vra_t2": "VRA_t-2",
    "ssb_index": "full SSB index (/1000, centred)", "sentny": "sentny (/1000, centred)", "ds": "DS"})


@dataclass(frozen=True)
class ModelParams:
    """One coefficient set. Units: net migration and VRA/DS as fractions; sentny = index/1000 centred.

    ``se`` maps term name -> standard error (only for estimated/published-with-SE terms);
    ``resid_se`` is the residual standard error (fraction of population), ``adj_r2`` adjusted R².
    ``sentny_mean`` is the centring mean of the estimation sample (index/1000; sentny = index/1000
    − sentny_mean) and ``centring`` the units it is a mean over ('kommuner' or 'regions'; DS is
    centred over the same units); None = not stored (the published sets: see
    :func:`geoproc.model.inputs.sentny_tables` for the rule used then).
    """

    intercept: float
    vra: tuple[float, float, float]
    sentny: float = 0.0
    ssb_index: float = 0.0
    ds: float = 0.0
    se: Mapping[str, float] = field(default_factory=dict, compare=False, hash=False)
    resid_se: float | None = None
    adj_r2: float | None = None
    name: str = ""
    n_obs: int | None = None
    sentny_mean: float | None = None
    centring: str | None = None

    def __post_init__(self) -> None:
        if len(self.vra) != 3:
            raise InputError(f"ModelParams.vra needs 3 coefficients (VRA_t, VRA_t-1, VRA_t-2), got {self.vra!r}. "
                             "Pass 0.0 for lags you do not use.")
        object.__setattr__(self, "vra", tuple(float(v) for v in self.vra))
        object.__setattr__(self, "se", dict(self.se))  # own copy (picklable)

    def coefficients(self) -> dict[str, float]:
        """Term name -> coefficient.

        Returns
        -------
        dict
            All seven terms (intercept, vra_t, vra_t1, vra_t2, sentny, ssb_index, ds); unused ones 0.0.
        """
        b0, b1, b2 = self.vra
        return {"intercept": self.intercept, "vra_t": b0, "vra_t1": b1, "vra_t2": b2,
                "ssb_index": self.ssb_index, "sentny": self.sentny, "ds": self.ds}

    def used_terms(self) -> list[str]:
        """Terms with a non-zero coefficient (excluding the intercept), in ``TERMS`` order.

        Returns
        -------
        list of str
        """
        return [t for t, b in self.coefficients().items() if t != "intercept" and b != 0.0]

    @classmethod
    def from_coefficients(cls, coefs: Mapping[str, float], **meta) -> "ModelParams":
        """Build from ``{term: coefficient}``.

        Parameters
        ----------
        coefs : mapping
            ``{term: coefficient}`` (per unit of the regressor); missing terms are 0, unknown terms
            raise InputError.
        **meta
            Other fields (se, resid_se, adj_r2, name, n_obs).

        Returns
        -------
        ModelParams
        """
        unknown = set(coefs) - set(TERMS)
        if unknown:
            raise InputError(f"unknown model terms {sorted(unknown)}; valid terms: {', '.join(TERMS)}.")
        c = {t: float(coefs.get(t, 0.0)) for t in TERMS}
        return cls(intercept=c["intercept"], vra=(c["vra_t"], c["vra_t1"], c["vra_t2"]), sentny=c["sentny"],
                   ssb_index=c["ssb_index"], ds=c["ds"], **meta)

    def with_name(self, name: str) -> "ModelParams":
        """A copy with another name.

        Parameters
        ----------
        name : str
            The new name.

        Returns
        -------
        ModelParams
        """
        return replace(self, name=name)


PUBLISHED_MODELS: Mapping[str, ModelParams] = MappingProxyType({
    "model1": ModelParams(-0.0013697, (0.1888122, 0.1299003, 0.0878197), resid_se=0.004759, adj_r2=0.3165,
                          name="model1", n_obs=1387),
    "model2": ModelParams(-0.0019547, (0.1283373, 0.0883154, 0.0417874), ssb_index=0.0223342,
                          resid_se=0.004001, adj_r2=0.5064, name="model2", n_obs=1387),
    "model3": ModelParams(-0.0019888, (0.1245850, 0.0852556, 0.0389828), sentny=0.0257613,
                          resid_se=0.003931, adj_r2=0.5234, name="model3", n_obs=1387),
    "model4": ModelParams(-0.0023964, (0.1360559, 0.0962927, 0.0531233), sentny=0.0272193, ds=-0.4036295,
                          se={"vra_t": 0.0090491, "vra_t1": 0.0090593, "vra_t2": 0.0092445,
                              "sentny": 0.0010171, "ds": 0.0530367},
                          resid_se=0.003853, adj_r2=0.5422, name="model4", n_obs=1387),
})
#: The current published model (model 4).
DEFAULT: ModelParams = PUBLISHED_MODELS["model4"]


def get_params(name_or_path: str | Path | ModelParams | None) -> ModelParams:
    """Resolve a parameter set.

    Parameters
    ----------
    name_or_path : str, pathlib.Path, ModelParams or None
        None (DEFAULT), a published name ('model1'..'model4'), a saved JSON/CSV file, or a
        ModelParams (returned unchanged).

    Returns
    -------
    ModelParams
    """
    if name_or_path is None:
        return DEFAULT
    if isinstance(name_or_path, ModelParams):
        return name_or_path
    key = str(name_or_path)
    if key in PUBLISHED_MODELS:
        return PUBLISHED_MODELS[key]
    path = Path(key)
    if not path.exists():
        raise InputError(f"model parameters '{key}' are neither a published model "
                         f"({', '.join(PUBLISHED_MODELS)}) nor an existing file. Give a name or a .json/.csv path "
                         "written by `save_params`/the estimate command.")
    return load_params(path)


def params_to_table(params: ModelParams) -> pd.DataFrame:
    """Coefficient table of all seven terms.

    Parameters
    ----------
    params : ModelParams

    Returns
    -------
    pandas.DataFrame
        term, estimate, se (NaN where unknown).
    """
    coefs = params.coefficients()
    return pd.DataFrame({"term": list(coefs), "estimate": list(coefs.values()),
                         "se": [params.se.get(t, math.nan) for t in coefs]})


def params_from_table(table: pd.DataFrame, *, name: str = "user", resid_se: float | None = None,
                      adj_r2: float | None = None, n_obs: int | None = None) -> ModelParams:
    """Build ModelParams from an estimate table.

    Parameters
    ----------
    table : pandas.DataFrame
        term, estimate[, se]; terms as in ``TERMS``.
    name : str, default "user"
        Name of the parameter set.
    resid_se, adj_r2 : float, optional
        Fit statistics (residual SE as a fraction of population).
    n_obs : int, optional
        Number of observations.

    Returns
    -------
    ModelParams
    """
    check_table(table, ["term", "estimate"], "coefficient table",
                "Use the table written by `estimate` (columns term, estimate, se).")
    coefs = dict(zip(table["term"].astype(str), table["estimate"].astype(float)))
    se = {}
    if "se" in table.columns:
        se = {t: float(s) for t, s in zip(table["term"].astype(str), table["se"]) if pd.notna(s)}
    return ModelParams.from_coefficients(coefs, se=se, resid_se=resid_se, adj_r2=adj_r2, name=name, n_obs=n_obs)


def save_params(params: ModelParams, path: str | Path) -> Path:
    """Write ``params`` atomically.

    Parameters
    ----------
    params : ModelParams
    path : path-like
        ``.json`` (all fields, with fit statistics) or ``.csv`` (the coefficient table).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with atomic_write(path) as tmp:
        if path.suffix.lower() == ".json":
            data = {f.name: getattr(params, f.name) for f in fields(params)}
            data["se"] = dict(params.se)
            data["vra"] = list(params.vra)
            tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        elif path.suffix.lower() == ".csv":
            params_to_table(params).to_csv(tmp, index=False)
        else:
            raise InputError(f"cannot save model parameters to '{path}': use a .json or .csv file name.")
    return path


def load_params(path: str | Path) -> ModelParams:
    """Read parameters written by :func:`save_params`.

    Parameters
    ----------
    path : path-like
        ``.json`` (keeps fit statistics) or ``.csv`` (coefficient table).

    Returns
    -------
    ModelParams
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            data["vra"] = tuple(data["vra"])
            return ModelParams(**data)
        if path.suffix.lower() == ".csv":
            return params_from_table(pd.read_csv(path), name=path.stem)
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise InputError(f"model parameter file '{path}' is not valid ({exc}). Re-create it with save_params.") from exc
    raise InputError(f"cannot read model parameters from '{path}': use a .json or .csv file.")

"""Output tables as a planner reads them (QGIS-free): counts as integers, readable log summaries.

Stored values are never rounded (the attribute table shows them rounded through the field
formats of :mod:`qgis_plugin.core.styling`); only columns that hold whole numbers in a float
type (population, jobs) become integer columns.
"""
from __future__ import annotations

import numpy as np

def fmt(x: float, decimals: int = 0, signed: bool = False) -> str:
    """Number with thin-space thousands separator (``+`` for ``signed``)."""
    text = f"{x:+,.{decimals}f}" if signed else f"{x:,.{decimals}f}"
    return text.replace(",", "\u2009")


def range_text(values, decimals: int = 0) -> str:
    """"min–max (mean m)" of the finite ``values``."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "no values"
    return f"{fmt(v.min(), decimals)}–{fmt(v.max(), decimals)} (mean {fmt(v.mean(), decimals)})"


def centrality_summary(result, group_col: str | None = None, name_col: str | None = None) -> list[str]:
    """Log lines for a centrality run: what was computed, the index range, the best/worst group."""
    z = result.zones
    s = result.summary or {}
    limits = ", ".join(f"{x:g}" for x in s.get("limits_min", []))
    lines = [f"{len(z)} zones: index {range_text(z['index'])}; SSB classes "
             + ", ".join(f"{c}: {n}" for c, n in sorted(z["centrality_class"].value_counts().items())) + ".",
             f"Jobs counted within {limits} min; decay {s.get('decay', '?')} (weight of a job by travel time); "
             f"{fmt(s.get('reachable_pairs', 0))} zone pairs within {s.get('cutoff_min', 0):g} min, "
             f"{s.get('od_seconds', s.get('seconds', 0)):.1f} s on {s.get('workers', 1)} threads."]
    if s.get("n_excluded"):
        lines.append(f"{s['n_excluded']} zones were left out (too far from a road); see the warnings above.")
    groups = getattr(result, "groups", None)
    if groups is not None and group_col and len(groups):
        g = groups.sort_values("index", ascending=False)
        label = (lambda r: f"{r[group_col]} {r[name_col]}" if name_col and name_col in g.columns else str(r[group_col]))
        lines.append(f"{len(g)} groups ({group_col}): most central {label(g.iloc[0])} ({g['index'].iloc[0]:.0f}), "
                     f"least central {label(g.iloc[-1])} ({g['index'].iloc[-1]:.0f}).")
    return lines

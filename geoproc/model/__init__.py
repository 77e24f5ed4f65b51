"""The attractiveness model (attraktivitetsmodellen): pure, vectorised pandas/numpy functions.

Units: every rate is a **fraction of the start-of-year population** (0.01 = 1 %) unless the
column or function name says ``pct``/``percent``; persons are whole-person counts (float).
Tables are long and tidy with a ``year`` column and a unit column (``kommune`` or ``region``).

Modules: :mod:`params` (published coefficients), :mod:`vra` (job growth, commuting shares, VRA),
:mod:`centrality_term` (sentny), :mod:`ds` (demographic employment supply),
:mod:`expected` (expected net migration), :mod:`attractiveness`, :mod:`decompose`,
:mod:`business` (shift-share), :mod:`barometer` (2011 method), :mod:`estimate` (OLS).

Input checks live in one place, :mod:`geoproc.data.tables` (validators for the tidy tables and
the generic column / NaN / negative / code / year / share checks); every failure is a
:class:`centrality.errors.InputError` naming the problem and the fix.
"""
from centrality.errors import InputError

__all__ = ["InputError"]

"""The attractiveness model (attraktivitetsmodellen): pure, vectorised pandas/numpy functions.

Units: every rate is a **fraction of the start-of-year population** (0.01 = 1 %) unless the
column or function name says ``pct``/``percent``; persons are whole-person counts (float).
Tables are long and tidy with a ``year`` column and a unit column (``kommune`` or ``region``).

Modules by stage of a model run: :mod:`inputs` (1: the input tables, VRA and lags, sentny, DS,
actual net migration), :mod:`expected` (2: expected net migration), :mod:`attractiveness` (3:
residual attractiveness, cumulated, ranked), :mod:`decompose` (4: components in persons),
:mod:`run` (stages 1–4 in order: ``run_model``), :mod:`estimate` (OLS re-estimation),
:mod:`projection` (5: cohort-component projections with the model), :mod:`scenario_projection`
(6: projections with and without a road project). Formulas: :mod:`params` (published
coefficients), :mod:`vra` (job growth, commuting shares, VRA), :mod:`centrality_term` (sentny),
:mod:`ds` (demographic employment supply), :mod:`project` (cohort component), :mod:`business`
(shift-share), :mod:`barometer` (2011 method). The ``regio model`` commands: :mod:`commands` (one
call each) and :mod:`products` (what each writes). :mod:`pipeline` only re-exports.

Input checks live in one place, :mod:`geoproc.data.tables` (validators for the tidy tables and
the generic column / NaN / negative / code / year / share checks); every failure is a
:class:`centrality.errors.InputError` naming the problem and the fix.
"""
from centrality.errors import InputError

__all__ = ["InputError"]

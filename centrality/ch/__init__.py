"""Customizable contraction hierarchy (CCH) backend: metric-independent order, float64
customisation and partial re-customisation, batched RPHAST many-to-many queries with a cutoff.

Entry points: :func:`hierarchy_for` (build or load a network's hierarchy),
:func:`centrality.paths.od_times` with ``engine="ch"`` (zone-to-zone times), and
:mod:`centrality.ch.scenario` (re-customise for changed link times and re-query).
See docs/performance.md for the design and measurements.
"""
from centrality.ch.build import hierarchy_for  # noqa: F401
from centrality.ch.hierarchy import Hierarchy, Topology, customize  # noqa: F401
from centrality.ch.query import TargetSpace, tie_band  # noqa: F401

"""Travel-time centrality engine: road networks, exact shortest travel times with a cutoff,
jobs reachable, distance-decayed accessibility and an SSB-style 0–1000 centrality index.

Headless and pure Python (numba for the shortest-path kernel). See docs/architecture.md.
"""
from centrality.errors import InputError

__all__ = ["InputError"]
__version__ = "0.1.0"

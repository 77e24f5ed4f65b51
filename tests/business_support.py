"""The hand-computed shift-share case shared by the business tests (library, CLI, QGIS).

Two kommuner, two private branches and one public sector; the values by hand are in
tests/test_model_business.py::test_shift_share_by_hand (kommune 1001: national 0.2, branch 1.3,
population 2.5 with k = 0.5, attractiveness 1.0, private 5, public 2, total 7).
"""
from __future__ import annotations

import pandas as pd

YEAR = 2021
ROWS = [(YEAR - 1, "1001", "retail", 100), (YEAR - 1, "1001", "other manufacturing", 100),
        (YEAR - 1, "1001", "municipal", 50), (YEAR - 1, "1002", "retail", 300),
        (YEAR - 1, "1002", "other manufacturing", 500), (YEAR - 1, "1002", "municipal", 100),
        (YEAR, "1001", "retail", 110), (YEAR, "1001", "other manufacturing", 95), (YEAR, "1001", "municipal", 52),
        (YEAR, "1002", "retail", 306), (YEAR, "1002", "other manufacturing", 490), (YEAR, "1002", "municipal", 100)]


def jobs_by_branch() -> pd.DataFrame:
    """year, kommune, branch, jobs of the case."""
    return pd.DataFrame(ROWS, columns=["year", "kommune", "branch", "jobs"])


def population() -> pd.DataFrame:
    """year, kommune, population (1 January) three years apart: 1001 +10 %, Norway +5 %."""
    return pd.DataFrame({"year": [YEAR - 3, YEAR - 3, YEAR, YEAR], "kommune": ["1001", "1002"] * 2,
                         "population": [1000, 3000, 1100, 3100]})

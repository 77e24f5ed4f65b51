"""Shift-share / business attractiveness (MODEL.md §3): a hand-computed case, identity checks with
cases built from the published Vestby/Bærum/Sarpsborg components, and estimation of k."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoproc.model import business
from tests import business_support

K = 0.5          # population elasticity used to build the cases
G_NAT = 0.01     # national private job growth
M_SHARE_NAT = 0.2  # national share of manufacturing (not population sensitive)
M_SHARE_LOC = 0.1  # the kommune's share of manufacturing
T_NAT = 2_000_000.0
Y = 2021
BRANCHES = pd.DataFrame({"branch": ["other manufacturing", "retail", "municipal"],
                         "sector": ["private", "private", "public"], "population_sensitive": [False, True, False]})


def _case(national: float, branch: float, population: float, attractiveness: float, public: float, code: str):
    """Two-kommune country whose shift-share for ``code`` gives exactly the published components.

    E_0 = national / g; the branch growth gaps d_M, d_S solve d_M·(f − m)/(1 − m)·E_0 = branch with
    national consistency m·d_M + (1 − m)·d_S = 0; relpop = population / (k · retail jobs).
    """
    e0 = national / G_NAT
    d_m = branch * (1 - M_SHARE_NAT) / (e0 * (M_SHARE_LOC - M_SHARE_NAT))
    d_s = -M_SHARE_NAT * d_m / (1 - M_SHARE_NAT)
    g_m, g_s = G_NAT + d_m, G_NAT + d_s
    m0, s0 = M_SHARE_LOC * e0, (1 - M_SHARE_LOC) * e0
    private = national + branch + population + attractiveness
    m1 = m0 * (1 + g_m)
    s1 = s0 + private - (m1 - m0)
    nat_m0, nat_s0 = M_SHARE_NAT * T_NAT, (1 - M_SHARE_NAT) * T_NAT
    rest = "9999"
    jobs = pd.DataFrame([
        (Y - 1, code, "other manufacturing", m0), (Y - 1, code, "retail", s0), (Y - 1, code, "municipal", 5000.0),
        (Y, code, "other manufacturing", m1), (Y, code, "retail", s1), (Y, code, "municipal", 5000.0 + public),
        (Y - 1, rest, "other manufacturing", nat_m0 - m0), (Y - 1, rest, "retail", nat_s0 - s0),
        (Y - 1, rest, "municipal", 100_000.0),
        (Y, rest, "other manufacturing", nat_m0 * (1 + g_m) - m1), (Y, rest, "retail", nat_s0 * (1 + g_s) - s1),
        (Y, rest, "municipal", 100_000.0)], columns=["year", "kommune", "branch", "jobs"])
    relpop = population / (K * s0)
    p0, p0_rest, g_pop = 30_000.0, 5_000_000.0, 0.03
    p1 = p0 * (1 + g_pop + relpop)
    pop = pd.DataFrame({"year": [Y - 3, Y - 3, Y, Y], "kommune": [code, rest, code, rest],
                        "population": [p0, p0_rest, p1, (1 + g_pop) * (p0 + p0_rest) - p1]})
    assert (jobs["jobs"] > 0).all()
    return jobs, pop


# Published components are rounded averages: Bærum's rounded parts add to 629, the published
# private total is 628. Its case is built from unrounded parts that round to every published figure.
@pytest.mark.parametrize("name, code, parts, published, private, public, total", [
    ("Vestby", "3019", (41, -7, 16, 196), (41, -7, 16, 196), 246, 41, 287),
    ("Bærum", "3024", (461.7, 331.7, 43.7, -209.1), (462, 332, 44, -209), 628, 137, 765),
    ("Sarpsborg", "3003", (144, -25, -3, -132), (144, -25, -3, -132), -16, 367, 351),
])
def test_shift_share_identity_with_cases_built_from_published_components(name, code, parts, published, private,
                                                                          public, total):
    jobs, pop = _case(*parts, public, code)
    out = business.shift_share(jobs, pop, population_elasticity=K, branches=BRANCHES).set_index("kommune").loc[code]
    names = ["national", "branch", "population", "attractiveness"]
    for col, exact, shown in zip(names, parts, published):
        assert out[col] == pytest.approx(exact, abs=1e-6), col
        assert round(out[col]) == shown, col
    assert out["private"] == pytest.approx(private, abs=1e-6)
    assert out["public"] == pytest.approx(public, abs=1e-9)
    assert out["total"] == pytest.approx(total, abs=1e-6)
    # identities: national + branch + population + attractiveness = private; + public = total
    assert sum(out[c] for c in names) == pytest.approx(out["private"], abs=1e-9)
    assert out["private"] + out["public"] == pytest.approx(out["total"], abs=1e-9)


def test_branch_effects_sum_to_zero_nationally():
    jobs, pop = _case(462, 332, 44, -209, 137, "3024")
    out = business.shift_share(jobs, pop, population_elasticity=K, branches=BRANCHES)
    assert out["branch"].sum() == pytest.approx(0.0, abs=1e-6)
    # national effect summed over the country = national private change
    assert out["national"].sum() == pytest.approx(out["private"].sum(), abs=1e-6)


def test_population_elasticity_recovered_from_synthetic_country():
    rng = np.random.default_rng(7)
    n = 300
    codes = [f"{1000 + i:04d}" for i in range(n)]
    relpop_true = rng.normal(0, 0.03, n)
    p0 = rng.uniform(2_000, 50_000, n)
    p1 = p0 * (1.02 + relpop_true)
    pop = pd.DataFrame({"year": [Y - 3] * n + [Y] * n, "kommune": codes * 2, "population": np.r_[p0, p1]})
    m0, s0 = rng.uniform(100, 2000, n), rng.uniform(500, 5000, n)
    relpop = p1 / p0 - 1 - (p1.sum() / p0.sum() - 1)
    k_true = 0.4
    m1 = m0 * (1 - 0.01) + rng.normal(0, 5, n)
    s1 = s0 * 1.02 + k_true * s0 * relpop + rng.normal(0, 5, n)
    rows = [(Y - 1, c, "other manufacturing", a) for c, a in zip(codes, m0)] + \
           [(Y - 1, c, "retail", a) for c, a in zip(codes, s0)] + \
           [(Y, c, "other manufacturing", a) for c, a in zip(codes, m1)] + \
           [(Y, c, "retail", a) for c, a in zip(codes, s1)]
    jobs = pd.DataFrame(rows, columns=["year", "kommune", "branch", "jobs"])
    k, se = business.estimate_population_elasticity(jobs, pop, branches=BRANCHES)
    assert 0 < se < 0.05
    assert abs(k - k_true) < 3 * se


def test_default_branch_table_has_25_private_branches():
    private = business.BRANCHES[business.BRANCHES["sector"] == "private"]
    assert len(private) == 25 and private["branch"].is_unique
    assert not private.set_index("branch").loc["agriculture", "population_sensitive"]
    assert private.set_index("branch").loc["retail", "population_sensitive"]


def test_shift_share_by_hand():
    """Two kommuner, two private branches and one public sector.

    t−1: A retail 100, manufacturing 100, municipal 50; B retail 300, manufacturing 500, municipal 100.
    t:   A retail 110, manufacturing  95, municipal 52; B retail 306, manufacturing 490, municipal 100.
    National: retail 400 -> 416 (+4 %), manufacturing 600 -> 585 (−2.5 %), private 1000 -> 1001 (+0.1 %).
    A: national 200·0.001 = 0.2; branch 100·(0.04 − 0.001) + 100·(−0.025 − 0.001) = 1.3;
    population: A grew 1000 -> 1100 in 3 years (+10 %), Norway 4000 -> 4200 (+5 %), relpop 0.05,
    k = 0.5 × retail 100 × 0.05 = 2.5; private change 205 − 200 = 5, attractiveness 5 − 4.0 = 1.0;
    public +2, total 7."""
    jobs, pop = business_support.jobs_by_branch(), business_support.population()
    out = business.shift_share(jobs, pop, population_elasticity=0.5, branches=BRANCHES).set_index("kommune")
    a = out.loc["1001"]
    assert a["national"] == pytest.approx(0.2)
    assert a["branch"] == pytest.approx(1.3)
    assert a["population"] == pytest.approx(2.5)
    assert a["private"] == pytest.approx(5.0)
    assert a["attractiveness"] == pytest.approx(1.0)
    assert a["public"] == pytest.approx(2.0) and a["total"] == pytest.approx(7.0)

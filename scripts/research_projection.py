"""How the neutral projection 2022–2040 reaches (or misses) the published figures: one row per
modelling choice, switched away from the documented default one at a time, and the combination the
code used before issue 10 (illustrative schedules, zero-sum domestic moves centred on the kommune
mean, Rogers–Castro migration profile, jobs fixed to the national rate, no kommune levels).

    .venv/bin/python scripts/research_projection.py --data-dir ../shared/data [--markdown]

Prints growth 2022–2040 (percent) for the five kommuner of MODEL.md §4, the number of the 356
kommuner that decline and Norway's growth. Nothing here is tuned to a kommune: every row is a
documented method choice (docs/usage-model.md, "Projections"). Takes a few minutes (one
projection ≈ 10 s on a shared 2-core machine).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PUBLISHED = {"0301": ("Oslo", 32.07), "3027": ("Rælingen", 23.01), "3029": ("Lørenskog", 22.91),
             "5442": ("Nesseby", -24.94), "5413": ("Ibestad", -24.98)}
PUBLISHED_DECLINING = 244


def variants(kommune_mean: float) -> list[tuple[str, dict]]:
    old = dict(illustrative_schedules=True, balance=True, sentny_mean=kommune_mean, migration_pattern=False,
               jobs_respond=False, kommune_levels=False, ds_denominator="jobs", ds_centring="kommuner",
               mortality_improvement="constant")
    return [
        ("documented default", {}),
        ("mortality 2023 carried forward (no trend)", dict(mortality_improvement="constant")),
        ("DS over jobs (spec's printed form)", dict(ds_denominator="jobs")),
        ("DS centred over kommuner", dict(ds_centring="kommuner")),
        ("sentny centred on the kommune mean", dict(sentny_mean=kommune_mean)),
        ("domestic moves zero-sum", dict(balance=True)),
        ("regression intercept added", dict(intercept=True)),
        ("no kommune fertility/mortality levels", dict(kommune_levels=False)),
        ("Rogers–Castro migration profile", dict(migration_pattern=False)),
        ("jobs fixed to the national rate (VRA 0)", dict(jobs_respond=False)),
        ("ILLUSTRATIVE national schedules", dict(illustrative_schedules=True)),
        ("net immigration 0.3 %/yr", dict(immigration_rate=0.003)),
        ("before issue 10 (all of: illustrative, zero-sum, kommune mean, R–C profile, VRA 0, no levels, DS/jobs)", old),
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = p.parse_args(argv)

    from geoproc.data.dataset import load_dataset
    from geoproc.model.default_centrality import proxy_centrality
    from geoproc.model.netmigration import estimate_net_migration
    from geoproc.model.real_projection import project_dataset

    ds = load_dataset(args.data_dir)
    nm = estimate_net_migration(ds.population_age_sex, ds.national)
    kommune_mean = float(proxy_centrality(args.data_dir)["index"].mean() / 1000.0)
    head = ["variant", *[f"{n} ({v:+.2f})" for n, v in PUBLISHED.values()], f"declining ({PUBLISHED_DECLINING})",
            "Norway"]
    rows = []
    for label, kw in variants(kommune_mean):
        t0 = time.perf_counter()
        run = project_dataset(ds, base_year=2022, horizon=2040, net_migration=nm, **kw)
        s = run.summary[run.summary["scenario"] == "neutral"].set_index("kommune")
        national = 100 * (s["population_end"].sum() / s["population_start"].sum() - 1)
        row = [label, *[f"{s.loc[k, 'growth_pct']:+.2f}" for k in PUBLISHED], str(run.declining()), f"{national:+.1f}"]
        rows.append(row)
        print(f"{label}: {' '.join(row[1:])}  ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        for r in [head, *rows]:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

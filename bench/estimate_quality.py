"""The wait estimates' quality table of docs/simulation.md (section 7): RMSE against the fair naive baseline and
the conditional-mean optimum, and the 90% interval's coverage, on the demo hall and a county-sized one, by load.

    .venv/bin/python bench/estimate_quality.py                      # the documented run (see the page for its time)
    .venv/bin/python bench/estimate_quality.py --days 3 --share 0.05 --runs 20 --loads 0.5 0.9   # a quick look

Each (hall, load) point runs on its own random streams; --seed changes all of them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.loader import default_config_path, load_config
from queue_server.simulation.quality import (
    COUNTY_WINDOWS,
    WARMUP_DAYS,
    county_hall,
    quality_point,
    quality_table,
    verdicts,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=float, nargs="+", default=[0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    parser.add_argument("--days", type=int, default=20, help="days per point, demo hall")
    parser.add_argument("--county-days", type=int, default=4, help="days per point, county hall")
    parser.add_argument("--share", type=float, default=0.1, help="share of tickets given the optimum, demo hall")
    parser.add_argument("--county-share", type=float, default=0.01, help="the same, county hall")
    parser.add_argument("--runs", type=int, default=40, help="forward runs per sampled ticket")
    parser.add_argument(
        "--warmup",
        type=int,
        default=WARMUP_DAYS,
        help="first days of each point not scored: the server learns from them, as from its history",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--halls", nargs="+", choices=["demo", "county"], default=["demo", "county"])
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--write", type=Path, help="also write the table and how it was made to this Markdown file")
    args = parser.parse_args()

    demo = load_config(default_config_path()).halls[0]
    county = county_hall(demo, COUNTY_WINDOWS)
    halls = {"demo": (demo, args.days, args.share), "county": (county, args.county_days, args.county_share)}
    started = time.monotonic()
    points = []
    for name in args.halls:
        hall, days, share = halls[name]
        for load in args.loads:
            t0 = time.monotonic()
            points.append(
                quality_point(hall, load, days=days, seed=args.seed, share=share, runs=args.runs, warmup=args.warmup)
            )
            print(f"  {name} load {load:g}: {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    table = quality_table(points)
    print(table.markdown() if args.markdown else table.text())
    made = (
        f"{sum(p.tickets for p in points):,} tickets, {sum(p.sampled for p in points):,} with the optimum;"
        f" {time.monotonic() - started:.0f} s (seed {args.seed}, {args.runs} forward runs a sampled ticket)"
    )
    print(f"\n{made}")
    if args.write is not None:
        command = " ".join(["bench/estimate_quality.py", *sys.argv[1:]])
        lines = [table.markdown(), "", f"`{command}`: {made}.", "", "Targets:", *verdicts(points)]
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""What a tracemalloc snapshot (``bench.ask_load --tracemalloc FILE``) holds, biggest first.

    python -m bench.memory_top FILE [--base FILE.rest] [--by lineno|filename|traceback]

With ``--base`` (the snapshot at rest), only what grew from it: what the answers in flight hold.

Sizes are Python's own allocations at the bot's highest traced point; the RSS the benchmark
reports also counts the interpreter, shared libraries and the allocator's free space.
"""

from __future__ import annotations

import argparse
import tracemalloc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_top", description=__doc__)
    parser.add_argument("snapshot")
    parser.add_argument("--by", choices=("lineno", "filename", "traceback"), default="lineno")
    parser.add_argument("--limit", type=int, default=25)
    parser.add_argument("--base", help="an earlier snapshot: show only the growth since")
    args = parser.parse_args(argv)
    snapshot = tracemalloc.Snapshot.load(args.snapshot)
    if args.base:
        base = tracemalloc.Snapshot.load(args.base)
        diffs = snapshot.compare_to(base, args.by)
        grew = sum(diff.size_diff for diff in diffs)
        print(f"{grew / 2**20:+.1f} MiB since the base snapshot")
        for diff in diffs[: args.limit]:
            print(f"{diff.size_diff / 2**10:+9.0f} KiB {diff.count_diff:+8,d}  {diff.traceback[0]}")
        return
    stats = snapshot.statistics(args.by)
    total = sum(stat.size for stat in stats)
    print(f"{total / 2**20:.1f} MiB in {sum(stat.count for stat in stats):,} blocks")
    for stat in stats[: args.limit]:
        print(f"{stat.size / 2**10:9.0f} KiB {stat.count:8,d}  {stat.traceback[0]}")
        if args.by == "traceback":
            for frame in list(stat.traceback)[1:]:
                print(f"{'':28}{frame}")


if __name__ == "__main__":
    main()

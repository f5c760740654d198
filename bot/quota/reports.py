"""A server's usage over a window: totals per feature, top members, use per feature over time
(the data of the report's chart), and the ledger as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field

from bot.quota.rules import FEATURES, UNIT_NAMES, Feature, Period
from bot.storage.store import Store

#: Members listed in a report.
TOP_MEMBERS = 10
CSV_COLUMNS = (
    "id",
    "created_at_utc",
    "settled_at_utc",
    "user_id",
    "channel_id",
    "feature",
    "units",
    "unit",
    "tokens",
    "tokens_estimated",
    "model",
    "outcome",
)


@dataclass(frozen=True)
class FeatureTotal:
    """One feature's use in the window; `units` and `calls` count reserved and done calls."""

    feature: Feature
    units: float
    calls: int
    members: int
    tokens: int
    refunded: int


@dataclass(frozen=True)
class MemberTotal:
    user_id: int
    calls: int
    units: dict[Feature, float] = field(default_factory=dict)
    calls_by_feature: dict[Feature, int] = field(default_factory=dict)


@dataclass(frozen=True)
class UsageReport:
    start: dt.datetime
    end: dt.datetime
    features: list[FeatureTotal]
    top: list[MemberTotal]

    @property
    def empty(self) -> bool:
        return not any(f.calls or f.refunded for f in self.features)


async def usage_report(
    store: Store, guild_id: int, start: dt.datetime, end: dt.datetime, top: int = TOP_MEMBERS
) -> UsageReport:
    window = (guild_id, start.timestamp(), end.timestamp())
    where = "guild_id = ? AND created_at >= ? AND created_at < ?"
    totals = await store.fetch_all(
        "SELECT feature,"
        " COALESCE(SUM(CASE WHEN outcome != 'refunded' THEN units END), 0),"
        " COUNT(CASE WHEN outcome != 'refunded' THEN 1 END),"
        " COUNT(DISTINCT CASE WHEN outcome != 'refunded' THEN user_id END),"
        " COALESCE(SUM(tokens), 0), COUNT(CASE WHEN outcome = 'refunded' THEN 1 END)"
        f" FROM usage WHERE {where} GROUP BY feature",
        window,
    )
    rows = {row[0]: row for row in totals}
    features = [
        FeatureTotal(f, float(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]))
        for f in FEATURES
        if (r := rows.get(f)) is not None
    ]
    per_member = await store.fetch_all(
        "SELECT user_id, feature, SUM(units), COUNT(*) FROM usage"
        f" WHERE {where} AND outcome != 'refunded' GROUP BY user_id, feature",
        window,
    )
    units: defaultdict[int, dict[Feature, float]] = defaultdict(dict)
    calls: defaultdict[int, int] = defaultdict(int)
    by_feature: defaultdict[int, dict[Feature, int]] = defaultdict(dict)
    for user_id, feature, amount, count in per_member:
        units[user_id][feature] = float(amount)
        calls[user_id] += int(count)
        by_feature[user_id][feature] = int(count)
    ranked = sorted(calls, key=lambda uid: (-calls[uid], uid))[:top]
    top_members = [MemberTotal(uid, calls[uid], units[uid], by_feature[uid]) for uid in ranked]
    return UsageReport(start, end, features, top_members)


#: Width of a chart's time buckets per report period: 5 minutes of an hour, hours of a day,
#: days of a month (UTC days are 86,400 s of unix time, so buckets align with the windows).
BUCKET_S: dict[Period, int] = {"hour": 300, "day": 3600, "month": 86_400}


@dataclass(frozen=True)
class UsageSeries:
    """A feature's use per time bucket of the window: `units[i]` (ledger units, reserved and
    done calls, as the totals count them) in [start + i * bucket_s, start + (i + 1) * bucket_s)."""

    period: Period
    start: dt.datetime
    end: dt.datetime
    bucket_s: int
    units: dict[Feature, list[float]]

    @property
    def buckets(self) -> int:
        return round((self.end - self.start).total_seconds()) // self.bucket_s

    def bucket_start(self, index: int) -> dt.datetime:
        return self.start + dt.timedelta(seconds=index * self.bucket_s)

    @property
    def empty(self) -> bool:
        return not any(any(values) for values in self.units.values())


async def usage_series(
    store: Store, guild_id: int, period: Period, start: dt.datetime, end: dt.datetime
) -> UsageSeries:
    """Use per feature per bucket of the window (`BUCKET_S[period]` wide); only features with
    use in the window are listed, in `FEATURES` order. One grouped read of the guild's index."""
    bucket_s = BUCKET_S[period]
    series = UsageSeries(period, start, end, bucket_s, {})
    first = start.timestamp()
    bucket = store.floor("(created_at - ?) / ?")
    rows = await store.fetch_all(
        f"SELECT feature, {bucket} AS bucket, SUM(units) FROM usage"
        " WHERE guild_id = ? AND created_at >= ? AND created_at < ? AND outcome != 'refunded'"
        " GROUP BY feature, bucket",
        (first, float(bucket_s), guild_id, first, end.timestamp()),
    )
    found: dict[str, list[float]] = {}
    for feature, bucket, amount in rows:
        values = found.setdefault(feature, [0.0] * series.buckets)
        if 0 <= bucket < len(values):
            values[bucket] += float(amount)
    series.units.update({f: found[f] for f in FEATURES if f in found})
    return series


async def ledger_csv(store: Store, guild_id: int, start: dt.datetime, end: dt.datetime) -> bytes:
    """Every ledger row of the server in the window (refunded ones too), oldest first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = await store.fetch_all(
        "SELECT id, created_at, settled_at, user_id, channel_id, feature, units, tokens,"
        " tokens_estimated, model, outcome FROM usage"
        " WHERE guild_id = ? AND created_at >= ? AND created_at < ? ORDER BY id",
        (guild_id, start.timestamp(), end.timestamp()),
    )
    for row in rows:
        (
            rid,
            created,
            settled,
            user_id,
            channel_id,
            feature,
            units,
            tokens,
            estimated,
            model,
            outcome,
        ) = row
        writer.writerow(
            (
                rid,
                _iso(created),
                _iso(settled) if settled is not None else "",
                user_id,
                channel_id if channel_id is not None else "",
                feature,
                f"{units:g}",
                UNIT_NAMES[feature],
                tokens,
                "yes" if estimated else "",
                model or "",
                outcome,
            )
        )
    return out.getvalue().encode()


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")

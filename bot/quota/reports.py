"""A server's usage over a window: totals per feature, top members, and the ledger as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field

from bot.quota.rules import FEATURES, UNIT_NAMES, Feature
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
    async with store.conn.execute(
        "SELECT feature,"
        " COALESCE(SUM(CASE WHEN outcome != 'refunded' THEN units END), 0),"
        " COUNT(CASE WHEN outcome != 'refunded' THEN 1 END),"
        " COUNT(DISTINCT CASE WHEN outcome != 'refunded' THEN user_id END),"
        " COALESCE(SUM(tokens), 0), COUNT(CASE WHEN outcome = 'refunded' THEN 1 END)"
        f" FROM usage WHERE {where} GROUP BY feature",
        window,
    ) as cur:
        rows = {row[0]: row for row in await cur.fetchall()}
    features = [
        FeatureTotal(f, float(r[1]), int(r[2]), int(r[3]), int(r[4]), int(r[5]))
        for f in FEATURES
        if (r := rows.get(f)) is not None
    ]
    async with store.conn.execute(
        "SELECT user_id, feature, SUM(units), COUNT(*) FROM usage"
        f" WHERE {where} AND outcome != 'refunded' GROUP BY user_id, feature",
        window,
    ) as cur:
        per_member = await cur.fetchall()
    units: defaultdict[int, dict[Feature, float]] = defaultdict(dict)
    calls: defaultdict[int, int] = defaultdict(int)
    for user_id, feature, amount, count in per_member:
        units[user_id][feature] = float(amount)
        calls[user_id] += int(count)
    ranked = sorted(calls, key=lambda uid: (-calls[uid], uid))[:top]
    top_members = [MemberTotal(uid, calls[uid], units[uid]) for uid in ranked]
    return UsageReport(start, end, features, top_members)


async def ledger_csv(store: Store, guild_id: int, start: dt.datetime, end: dt.datetime) -> bytes:
    """Every ledger row of the server in the window (refunded ones too), oldest first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    async with store.conn.execute(
        "SELECT id, created_at, settled_at, user_id, channel_id, feature, units, tokens,"
        " tokens_estimated, model, outcome FROM usage"
        " WHERE guild_id = ? AND created_at >= ? AND created_at < ? ORDER BY id",
        (guild_id, start.timestamp(), end.timestamp()),
    ) as cur:
        async for row in cur:
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

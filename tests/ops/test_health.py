"""The heartbeat file and `nexbot health`: fresh while connected, failing when stale or missing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.ops.health import Heartbeat, check_heartbeat, write_heartbeat
from tests.test_main import run_nexbot

NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    ("written_s_ago", "healthy", "says"),
    [
        (0, True, "connected to Discord (last heartbeat 0 s ago)"),
        (119, True, "last heartbeat 119 s ago"),
        (120, True, "last heartbeat 120 s ago"),
        (121, False, "last heartbeat 121 s ago (more than 120 s): the bot has lost"),
        (3600, False, "last heartbeat 3600 s ago"),
        (-5, True, "last heartbeat 0 s ago"),  # a clock a little ahead is no failure
    ],
)
def test_the_heartbeat_is_healthy_until_it_is_older_than_the_limit(
    tmp_path: Path, written_s_ago: float, healthy: bool, says: str
) -> None:
    path = tmp_path / "health"
    write_heartbeat(path, now=NOW - written_s_ago)
    ok, reason = check_heartbeat(path, 120, now=NOW)
    assert ok is healthy
    assert says in reason
    assert "\n" not in reason


def test_a_missing_heartbeat_says_the_bot_is_not_connected(tmp_path: Path) -> None:
    ok, reason = check_heartbeat(tmp_path / "nope", 120, now=NOW)
    assert not ok
    assert reason.startswith("no heartbeat file at ")
    assert "not connected to Discord" in reason


def test_a_garbled_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "health"
    path.write_text("yesterday\n")
    ok, reason = check_heartbeat(path, 120, now=NOW)
    assert not ok
    assert "holds no time: 'yesterday'" in reason


def test_writing_replaces_the_file_and_leaves_no_partial_files(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "health"
    write_heartbeat(path, now=NOW - 10)
    write_heartbeat(path, now=NOW)
    assert path.read_text() == f"{NOW:.3f}\n"
    assert [p.name for p in path.parent.iterdir()] == ["health"]


async def test_the_heartbeat_is_written_only_while_connected_and_removed_on_close(
    tmp_path: Path,
) -> None:
    connected = False
    heartbeat = Heartbeat(tmp_path / "health", lambda: connected)
    assert not heartbeat.beat()
    assert not heartbeat.path.exists()
    connected = True
    assert heartbeat.beat()
    assert check_heartbeat(heartbeat.path, 120)[0]
    await heartbeat.close()
    assert not heartbeat.path.exists()


def test_an_unwritable_heartbeat_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    heartbeat = Heartbeat(blocker / "health", lambda: True)  # a file where a folder should be
    assert not heartbeat.beat()
    assert not heartbeat.beat()
    assert len([r for r in caplog.records if "heartbeat file" in r.message]) == 1


# -- `nexbot health`, as Docker's HEALTHCHECK runs it -----------------------------------------


def health_env(path: Path) -> dict[str, str]:
    return {"DISCORD_TOKEN": "t", "NEXAI_API_KEY": "k", "HEALTH_FILE": str(path)}


def test_nexbot_health_exits_0_while_the_heartbeat_is_fresh(tmp_path: Path) -> None:
    path = tmp_path / "health"
    write_heartbeat(path)
    result = run_nexbot(["health"], health_env(path), tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("nexbot: connected to Discord")


def test_nexbot_health_exits_1_with_one_line_when_stale(tmp_path: Path) -> None:
    path = tmp_path / "health"
    write_heartbeat(path, now=time.time() - 300)
    env = {**health_env(path), "HEALTH_MAX_AGE_S": "60"}
    result = run_nexbot(["health"], env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("nexbot: last heartbeat 3")
    assert "s ago (more than 60 s): the bot has lost its Discord connection" in result.stderr
    assert result.stderr.count("\n") == 1


def test_nexbot_health_exits_1_when_there_is_no_heartbeat(tmp_path: Path) -> None:
    result = run_nexbot(["health"], health_env(tmp_path / "none"), tmp_path)
    assert result.returncode == 1
    assert "no heartbeat file" in result.stderr


def test_nexbot_health_with_bad_settings_is_unhealthy_not_reserved(tmp_path: Path) -> None:
    """Docker reserves exit code 2, which `nexbot` uses for bad settings."""
    result = run_nexbot(["health"], {"NEXAI_API_KEY": "k"}, tmp_path)
    assert result.returncode == 1
    assert "DISCORD_TOKEN is not set" in result.stderr

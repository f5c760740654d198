"""Start-up: a bad configuration stops `nexbot` with one line naming the setting."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_nexbot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"NEXAI_API_KEY": "sk-billing-x"}, "DISCORD_TOKEN is not set"),
        (
            {"DISCORD_TOKEN": "t", "NEXAI_API_KEY": "k", "HISTORY_MAX_TURNS": "-1"},
            "HISTORY_MAX_TURNS is invalid",
        ),
    ],
)
def test_bad_setting_stops_start_up_with_one_line_and_no_traceback(
    env: dict[str, str], named: str, tmp_path: Path
) -> None:
    result = run_nexbot([], env, tmp_path)
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert "sk-billing-x" not in result.stderr + result.stdout


def test_settings_are_read_from_a_dot_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=t\nNEXAI_API_KEY=k\nLOG_LEVEL=NOISY\n")
    result = run_nexbot(["check"], {}, tmp_path)
    assert result.returncode == 2
    assert "LOG_LEVEL is invalid" in result.stderr

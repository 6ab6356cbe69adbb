"""``lifeline-demo --headless``: the whole product on this machine with no screen (its
own Xvfb desktops, the real broker, applet and console), as a newcomer would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_headless_demo_runs_a_whole_session(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [sys.executable, "-m", "console.demo", "--out", str(out), "--data", str(tmp_path / "d")],
        env={**env, "PYTHONFAULTHANDLER": "1"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "10 of 10 steps held" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] is True and summary["broker"].startswith("https://127.0.0.1:")
    assert [s["ok"] for s in summary["steps"]] == [True] * 10
    checks = summary["checks"]
    assert checks["frames_received"] >= 1 and checks["picture_match"] >= 0.99
    assert checks["chat_reply_arrived"] and checks["button_pressed"]
    assert checks["typed_text_arrived"] and (out / "typed.txt").read_text().strip()
    assert checks["applet_exit_code"] == 0 and checks["applet_left_files"] == 0
    assert checks["recording_complete"] and checks["video"]["width"] == 1280
    assert (out / "session.rcrec").exists() and (out / "session.avi").stat().st_size > 0
    assert checks["files_match"]
    assert len(summary["screenshots"]) == 12
    for name in summary["screenshots"]:
        assert (out / name).read_bytes().startswith(PNG)

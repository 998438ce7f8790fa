"""`rasa test` on the conversations of tests/test_stories.yml: the trained model must give every guest message
its intent (and booking code) and every turn the action that answers it, in both languages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "hotel.tar.gz"
RASA = Path(sys.executable).parent / "rasa"
STORIES = ROOT / "tests" / "test_stories.yml"

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="no trained model in models/: run `make train`")


def test_the_test_stories_pass(tmp_path: Path) -> None:
    command = [str(RASA), "test", "core", "--model", str(MODEL), "--stories", str(STORIES), "--out", str(tmp_path)]
    result = subprocess.run(
        [*command, "--successes", "--no-plot"],
        cwd=ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    failed = tmp_path / "failed_test_stories.yml"
    report = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, report or (result.stdout + result.stderr)[-4000:]
    assert "- story:" not in report, report
    assert (tmp_path / "successful_test_stories.yml").read_text(encoding="utf-8").count("- story:") == (
        STORIES.read_text(encoding="utf-8").count("- story:")
    )

"""The "first hour" guides, walked as a new user would: every sh block of each, in order, in an empty folder, with
the installed `tracechain` on PATH and nothing else prepared (issue 14.7)."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDES = {"en": ROOT / "docs" / "first-hour.en.md", "zh": ROOT / "docs" / "first-hour.zh.md"}
LOCALES = {"en": "C.UTF-8", "zh": "zh_CN.UTF-8"}


def sh_blocks(path: Path) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


def test_both_guides_run_the_same_commands() -> None:
    """The translation changes the prose, not the walk (but for the step the Chinese guide writes in Chinese)."""
    en, zh = (sh_blocks(GUIDES[lang]) for lang in ("en", "zh"))
    assert len(en) == len(zh) >= 8
    assert [b.replace("--step shipping", "--step 发货") for b in en] == zh


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_guide_walks_from_nothing_to_a_lot_looked_up(language: str, tmp_path: Path) -> None:
    script = "set -euo pipefail\n" + "\n".join(sh_blocks(GUIDES[language]))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("TRACECHAIN_PASSWORD", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "TRACECHAIN_COMMAND")
    }
    env |= {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", "LANG": LOCALES[language]}
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    out = result.stdout
    # The producer's events landed, signed, and the regulator's checks passed, in the reader's language.
    if language == "zh":
        assert "已追加 3 条事件" in out and "通过：3 个包含证明均已验证" in out
        assert "发货 · 在途" in out and "已将 3 条事件写入" in out
    else:
        assert "appended 3 events (entries 4..7)" in out and "ok: 3 inclusion proofs verify" in out
        assert "shipping · in transit" in out
    # The lot's spreadsheet keeps its Chinese, with headings in the reader's language.
    data = (tmp_path / "lot-YY260318.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == ("记录" if language == "zh" else "entry")
    assert len(rows) == 4 and all("广东粤盐阳江盐业有限公司" in row for row in rows[1:])

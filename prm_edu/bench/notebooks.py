"""Each notebook's wall time and its kernel's peak memory, run top to bottom.

Every notebook runs in a fresh process (and a fresh kernel below it), so the
peak resident memory of that process's children is the kernel's own peak.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
# The limits the course promises (seconds, MiB); 03 trains a PRM live and 08
# fine-tunes the generator three times (GRPO).
LIMIT_S = {"03_train_a_prm": 180.0, "08_rl_with_process_rewards": 180.0}
DEFAULT_LIMIT_S = 90.0
LIMIT_MIB = 1536


def add_arguments(parser) -> None:
    parser.add_argument(
        "--only", default="", help="comma-separated notebook name prefixes, e.g. 01,04"
    )
    parser.add_argument("--timeout", type=int, default=600, help="per notebook, s")


def run(args) -> dict:
    prefixes = [p for p in args.only.split(",") if p]
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if prefixes:
        paths = [p for p in paths if any(p.name.startswith(x) for x in prefixes)]
    rows = []
    for path in paths:
        proc = subprocess.run(
            [sys.executable, "-m", "prm_edu.bench._run_notebook", str(path),
             str(args.timeout)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            rows.append({"notebook": path.stem, "ok": False,
                         "error": proc.stderr.strip().splitlines()[-5:]})
            continue
        measured = json.loads(proc.stdout.strip().splitlines()[-1])
        limit = LIMIT_S.get(path.stem, DEFAULT_LIMIT_S)
        rows.append({
            "notebook": path.stem,
            "ok": True,
            "seconds": round(measured["seconds"], 1),
            "peak_mib": round(measured["peak_mib"], 1),
            "limit_s": limit,
            "within_limits": measured["seconds"] <= limit
            and measured["peak_mib"] <= LIMIT_MIB,
        })
    total = sum(r.get("seconds", 0.0) for r in rows)
    return {"notebooks": rows, "total_seconds": round(total, 1),
            "limit_total_s": 600.0, "limit_mib": LIMIT_MIB}


def format_text(result: dict) -> str:
    lines = [f"{'notebook':32} {'seconds':>8} {'peak MiB':>9}  ok"]
    for r in result["notebooks"]:
        if not r["ok"]:
            lines.append(f"{r['notebook']:32} FAILED: {r['error']}")
            continue
        mark = "yes" if r["within_limits"] else "OVER LIMIT"
        lines.append(
            f"{r['notebook']:32} {r['seconds']:8.1f} {r['peak_mib']:9.1f}  {mark}"
        )
    lines.append(f"total: {result['total_seconds']} s (limit 600 s)")
    return "\n".join(lines)

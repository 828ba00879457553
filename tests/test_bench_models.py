"""`python -m prm_edu.bench models`: every part of its report, on a tiny run."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace


def test_reports_shipped_models_and_both_fresh_prms(monkeypatch):
    from prm_edu.bench import models as bench

    # Two training steps each instead of notebook 03's time budgets.
    for name in ("NOTEBOOK_03_CONFIG", "NOTEBOOK_03_SURPRISE_CONFIG"):
        quick = replace(getattr(bench, name), max_steps=2, time_budget_s=None)
        monkeypatch.setattr(bench, name, quick)
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(
        "--world equations --problems 4 --samples 2 --val-problems 4 "
        "--fresh-problems 3".split()
    )
    out = bench.run(args)
    json.dumps(out)  # the --json output
    r = out["worlds"]["equations"]
    assert {"generator", "prm", "orm", "fresh_prm", "fresh_surprise_prm"} <= set(r)
    assert r["generator"]["held_out"]["problems"] == 4
    passes = r["prm"]["score_1000_traces_passes_s"]
    assert len(passes) == 3 and r["prm"]["score_1000_traces_s"] == sorted(passes)[1]
    for key in ("fresh_prm", "fresh_surprise_prm"):
        assert r[key]["steps"] == 2 and r[key]["train_traces"] == 12
    text = bench.format_text(out)
    assert "fine-tuned" in text and "surprise" in text and "1,000 traces" in text

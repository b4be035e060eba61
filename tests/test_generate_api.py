"""The entry point's promises: same arguments give the same bytes (in any process),
bad arguments are refused before anything is written, progress is reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
from generate_support import ROOT

from core.errors import EcomError
from loader import generate as gen


def test_deterministic_and_seed_sensitive(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    ma = gen.generate(a, scale=0.05, seed=3, dirty_rate=0.02)
    # another process with other string hashing must write the same bytes
    code = (
        "import sys; from pathlib import Path; from loader.generate import generate; "
        "generate(Path(sys.argv[1]), scale=0.05, seed=3, dirty_rate=0.02)"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(b)], check=True, env=env, cwd=ROOT)
    gen.generate(c, scale=0.05, seed=4, dirty_rate=0.02)
    assert ma == json.loads((b / gen.MANIFEST_NAME).read_text())
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "orders.csv").read_bytes() != (c / "orders.csv").read_bytes()
    assert (a / "customers.csv").read_bytes() != (c / "customers.csv").read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": 0}, "scale"),
        ({"scale": -1.0}, "scale"),
        ({"start": date(2024, 1, 2), "end": date(2024, 1, 1)}, "before"),
        ({"dirty_rate": 0.6}, "dirty_rate"),
        ({"dirty_rate": -0.1}, "dirty_rate"),
        ({"seed": -1}, "seed"),
        ({"start": "2024-01-01"}, "start"),
    ],
)
def test_generate_rejects_bad_arguments(tmp_path, kwargs, message):
    with pytest.raises(EcomError, match=message):
        gen.generate(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


def test_progress_reports_every_step(tmp_path):
    seen: list[tuple[str, int, int]] = []
    gen.generate(tmp_path, scale=0.05, progress=lambda s, d, t: seen.append((s, d, t)))
    assert seen[0][1] == 0 and seen[-1][1] == seen[-1][2]
    assert all(0 <= d <= t for _, d, t in seen)
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)

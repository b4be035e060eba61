"""The files beside the CSVs: the manifest and the state `append_days` resumes from.

`_manifest.json` describes the generated files; `_state.json` (random generator
states, next ids, last day) and `_state.npy` (the arrays the simulation carries
over) are what the next `append_days` needs. Neither is data to load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import EcomError

MANIFEST_NAME = "_manifest.json"
STATE_NAME = "_state.json"
STATE_ARRAYS_NAME = "_state.npy"
STATE_VERSION = 1


def read_previous(
    out_dir: Path,
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]:
    """State, state arrays and manifest of the generation in `out_dir`, checked."""
    if not (out_dir / MANIFEST_NAME).exists() or not (out_dir / STATE_NAME).exists():
        raise EcomError(
            f"{out_dir} holds no previous generation (no {MANIFEST_NAME} and "
            f"{STATE_NAME}); run generate first"
        )
    try:
        meta, arrays = load_state(out_dir)
        manifest = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        raise EcomError(
            f"cannot read the generator state in {out_dir}: {exc}"
        ) from None
    if meta.get("version") != STATE_VERSION:
        raise EcomError(f"the generator state in {out_dir} is from another version")
    return meta, arrays, manifest


def save_state(
    out_dir: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]
) -> None:
    meta = dict(meta, arrays=list(arrays))
    with (out_dir / STATE_ARRAYS_NAME).open("wb") as fh:
        for a in arrays.values():
            np.save(fh, np.ascontiguousarray(a), allow_pickle=False)
    (out_dir / STATE_NAME).write_text(
        json.dumps(meta, indent=1) + "\n", encoding="utf-8"
    )


def load_state(out_dir: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    meta = json.loads((out_dir / STATE_NAME).read_text(encoding="utf-8"))
    arrays = {}
    with (out_dir / STATE_ARRAYS_NAME).open("rb") as fh:
        for name in meta["arrays"]:
            arrays[name] = np.load(fh, allow_pickle=False)
    return meta, arrays


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    (out_dir / MANIFEST_NAME).write_text(text, encoding="utf-8")


def remove_previous(out_dir: Path) -> None:
    """Delete the files of an earlier generation in the same folder (only those)."""
    path = out_dir / MANIFEST_NAME
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        for name in old.get("files", []):
            if isinstance(name, str) and "/" not in name and "\\" not in name:
                (out_dir / name).unlink(missing_ok=True)
        path.unlink()
    for name in (STATE_NAME, STATE_ARRAYS_NAME):
        (out_dir / name).unlink(missing_ok=True)

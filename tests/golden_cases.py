"""Golden cases: ``tests/golden/<case>/`` holds the spec (``spec.asyncapi.yaml``, or
``source.txt`` naming a spec of the repo) and ``expected/``, the whole generated tree.

Regenerate the expected trees with
``CHANSPEC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py``.
"""

from __future__ import annotations

from pathlib import Path

from .servers import REPO

GOLDEN = Path(__file__).resolve().parent / "golden"


def cases() -> list[str]:
    return sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def spec_of(case: str) -> Path:
    folder = GOLDEN / case
    source = folder / "source.txt"
    if source.exists():
        return REPO / source.read_text().strip()
    return folder / "spec.asyncapi.yaml"


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".mypy_cache" not in p.parts
    }

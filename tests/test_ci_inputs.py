"""In CI the corpus-based tests must run: their skip is only for a user's clone without it."""

from __future__ import annotations

import os

import pytest

from .servers import REPO


def test_shared_corpus_is_present_in_ci() -> None:
    if not os.environ.get("CI"):
        pytest.skip("checked only in CI (CI set), where ../shared/corpus must be present")
    corpus = REPO.parent / "shared" / "corpus" / "MANIFEST.tsv"
    assert corpus.is_file(), f"CI runs without {corpus}: the corpus tests would be skipped"

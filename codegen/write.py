"""The only code that touches the output directory.

Owned files (``generated/``) are replaced when their content changed; scaffolds (consumers,
``main.py``, package ``__init__``) are created when missing; an existing consumer module only
gains stubs for new operations (:mod:`.scaffold`), every line the user wrote stays.
Each file is written atomically (temporary file + rename) so an interrupted run leaves either
the old or the new content, never half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .problems import Problem
from .removed import find_leftovers, stale_generated
from .render import RenderedFile
from .scaffold import ScaffoldUpdate, update_consumer
from .security import update_verifiers

__all__ = ["TreeReport", "check_tree", "write_tree"]


@dataclass
class TreeReport:
    """What a write (or a check) did or would do, as POSIX paths relative to the output dir.

    Attributes:
        written: owned files replaced or created.
        unchanged: owned files already up to date.
        created: scaffolds created because they were missing.
        updated: ``{consumer scaffold: [operation ids]}`` that gained stubs.
        marked: ``{consumer scaffold: [method names]}`` that got a G002/G003 comment.
        kept: existing scaffolds left as the user has them.
        removed: owned files deleted because the run no longer generates them: any file
            under ``generated/`` with chanspec's header that the spec no longer produces
            (``security.py`` once the spec requires no security scheme), and
            ``generated/client.py`` with ``--no-client``.
        retained: classes ``generated/messages.py`` keeps, deprecated, only because a user
            module still imports them (G006).
        notes: warnings about user code (removed operations, changed signatures, imports of
            removed classes, modules of removed channels).
    """

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    marked: dict[str, list[str]] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retained: list[str] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when anything was (or would be) written."""
        return bool(self.written or self.created or self.updated or self.marked or self.removed)


def _atomic_write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_tree(
    out_dir: Path,
    files: list[RenderedFile],
    *,
    dry_run: bool = False,
    mark: bool = False,
    remove: Sequence[str] = (),
) -> TreeReport:
    """Write ``files`` under ``out_dir`` following the ownership rules.

    User code that still refers to what the spec removed is reported (:mod:`.removed`: G006,
    G007), and a class of ``generated/messages.py`` a user module still imports is kept there,
    deprecated, so the app keeps importing.

    Args:
        out_dir: the app package directory (created if missing).
        files: rendered files.
        dry_run: compute the report without touching the disk.
        mark: comment handlers of removed operations and changed signatures in the user's
            consumer modules (see :func:`~.scaffold.update_consumer`).
        remove: owned files (under ``generated/``, POSIX paths) to delete when present,
            besides those :func:`~.removed.stale_generated` finds (chanspec's files under
            ``generated/`` that ``files`` lacks); user code importing from any of them is
            reported (G006), a user module only they imported too (G008).

    Returns:
        The :class:`TreeReport`.

    Raises:
        OSError: the directory or a file cannot be written.
    """
    report = TreeReport()
    # user files first: what they will contain decides which generated classes are kept
    updates: dict[str, ScaffoldUpdate] = {}
    for f in files:
        target = out_dir / f.path
        if f.owned or not target.exists() or (f.consumer_class is None and not f.function_stubs):
            continue
        existing = target.read_text(encoding="utf-8")
        if f.function_stubs:  # auth.py: verifiers for schemes new in the spec
            updates[f.path] = update_verifiers(existing, f.content, str(target))
        else:
            assert f.consumer_class is not None
            updates[f.path] = update_consumer(
                existing, f.content, f.consumer_class, str(target), mark=mark
            )
    planned = {p: u.content for p, u in updates.items()}
    owned = {f.path for f in files if f.owned}
    explicit = {p for p in remove if p.startswith("generated/") and p not in owned}
    remove = sorted(explicit | set(stale_generated(out_dir, owned)))
    planned.update(
        {f.path: f.content for f in files if not f.owned and not (out_dir / f.path).exists()}
    )
    leftovers = find_leftovers(
        out_dir,
        {f.path: f.content for f in files if f.owned},
        {f.path for f in files if f.consumer_class is not None},
        planned,
        removed=remove,
    )
    report.retained = sorted(leftovers.kept)
    for f in files:
        target = out_dir / f.path
        exists = target.exists()
        content = leftovers.owned.get(f.path, f.content)
        if f.owned:
            if exists and target.read_text(encoding="utf-8") == content:
                report.unchanged.append(f.path)
                continue
            report.written.append(f.path)
        elif f.path in updates:
            update = updates[f.path]
            report.notes.extend(update.notes)
            marked = update.marked
            if not update.added and not marked:
                report.kept.append(f.path)
                continue
            if update.added:
                report.updated[f.path] = update.added
            if marked:
                report.marked[f.path] = marked
            if not dry_run:
                _atomic_write(target, update.content)
            continue
        elif exists:
            report.kept.append(f.path)
            continue
        else:
            report.created.append(f.path)
        if not dry_run:
            _atomic_write(target, content)
    for path in remove:
        target = out_dir / path
        if not path.startswith("generated/") or not target.is_file():
            continue  # only chanspec's own files are ever deleted
        report.removed.append(path)
        if not dry_run:
            target.unlink()
    report.notes.extend(leftovers.notes)
    return report


def check_tree(
    out_dir: Path, files: list[RenderedFile], *, remove: Sequence[str] = ()
) -> TreeReport:
    """Like :func:`write_tree` with ``dry_run=True``: which files are stale, missing or would
    be removed."""
    return write_tree(out_dir, files, dry_run=True, remove=remove)

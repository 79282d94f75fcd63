"""Source positions of loaded documents, keyed by object identity.

The loader turns YAML/JSON into plain ``dict``/``list`` trees.  Those carry no
positions, so :class:`SourceMap` records them on the side: a container's own
position under ``id(container)`` and the position of each member value under
``(id(container), key_or_index)``.  Scalars are located through their container.
"""

from __future__ import annotations

from typing import Any

from .problems import Position

__all__ = ["SourceMap", "unescape_token"]


def unescape_token(token: str) -> str:
    """Unescape one RFC 6901 reference token: ``~1`` -> ``/`` first, then ``~0`` -> ``~``."""
    return token.replace("~1", "/").replace("~0", "~")


class SourceMap:
    """Positions of containers and of their members, by object identity.

    ``node_pos[id(container)]`` is where the mapping/sequence starts;
    ``key_pos[(id(container), key_or_index)]`` is where the member's value starts.
    Every recorded container is kept alive by the map, so its ``id`` cannot be reused
    while the map exists.  Mutating a container (e.g. replacing a ``$ref``) keeps the
    recorded position of the slot: it still says where that member was written.
    """

    def __init__(self) -> None:
        self.node_pos: dict[int, Position] = {}
        self.key_pos: dict[tuple[int, object], Position] = {}
        self._alive: dict[int, object] = {}

    def record_node(self, container: object, pos: Position) -> None:
        """Record where ``container`` starts (first record wins, e.g. for YAML aliases)."""
        self._alive.setdefault(id(container), container)
        self.node_pos.setdefault(id(container), pos)

    def record_key(self, container: object, key: object, pos: Position) -> None:
        """Record where the value of ``container[key]`` starts."""
        self._alive.setdefault(id(container), container)
        self.key_pos[(id(container), key)] = pos

    def position_of(self, container: object, key: object = None) -> Position | None:
        """Position of ``container`` itself (``key`` None) or of ``container[key]``.

        Returns None when nothing was recorded (e.g. an object built after loading).
        """
        if key is None:
            return self.node_pos.get(id(container))
        return self.key_pos.get((id(container), key))

    def position_at(self, root: object, pointer: str) -> Position | None:
        """Position of the node at RFC 6901 JSON ``pointer`` below ``root``.

        ``pointer`` is ``""`` (the root) or ``"/a/b~1c/0"`` (a leading ``#`` is
        accepted).  Walks as far as the pointer matches and returns the position of the
        deepest node found, so a pointer into a missing member still lands near the
        problem.  Returns None when not even ``root`` has a recorded position.
        """
        pointer = pointer.removeprefix("#")
        node: Any = root
        best = self.position_of(root)
        tokens = [unescape_token(t) for t in pointer.split("/")[1:]] if pointer else []
        for token in tokens:
            key: object
            if isinstance(node, dict) and token in node:
                key = token
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                key = int(token)
            else:
                break
            best = self.position_of(node, key) or best
            node = node[key]
        return best

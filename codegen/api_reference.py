"""The runtime API reference, rendered as Markdown from the runtime's docstrings.

Regenerate ``docs/runtime-api.md`` with
``python -m chanspec.codegen.api_reference > docs/runtime-api.md``; ``tests/test_docs.py``
fails when it is out of date, and when a name exported by ``chanspec.runtime`` is missing.

What is documented is listed in :data:`SECTIONS` (a section per runtime module: its module
docstring, then each object's signature and docstring). Docstrings are written in the
reStructuredText/Google style of the code base and converted: ````code```` to backticks,
``:class:`~x.Y``` roles to their name, ``Args:``/``Returns:``/``Raises:``/``Attributes:``
sections to bold labels with bullet lists, and ``::`` literal blocks to Python code blocks.
Signatures keep their annotations as written in the source. The runtime is imported here only
to read it; nothing is executed.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["SECTIONS", "Section", "api_markdown", "docstring_markdown"]


@dataclass(frozen=True)
class Section:
    """One page section: a runtime module and the objects of it to document, in order.

    ``members`` names attributes of the module; ``Class.method`` names a method (or property)
    documented under its class; ``None`` means the module's ``__all__``. Module-level
    constants (``int``/``str`` values) are listed together in a table.
    """

    title: str
    module: str
    members: tuple[str, ...] | None


SECTIONS: tuple[Section, ...] = (
    Section("The application", "chanspec.runtime.app", ("create_app", "document_of")),
    Section(
        "Consumers",
        "chanspec.runtime.consumer",
        (
            "Consumer",
            "Consumer.authenticate",
            "Consumer.post_authentication",
            "Consumer.send_message",
            "Consumer.broadcast_message",
            "Consumer.join_group",
            "Consumer.leave_group",
            "Consumer.groups_templates",
            "Consumer.layer",
            "Consumer.broadcast_event",
            "Consumer.send_event",
            "Consumer.broadcast_event_sync",
            "Consumer.send_event_sync",
            "CLOSE_UNAUTHENTICATED",
            "CLOSE_LAYER_UNAVAILABLE",
        ),
    ),
    Section("Authentication", "chanspec.runtime.auth", None),
    Section(
        "Decorators", "chanspec.runtime.decorators", ("channel", "ws_handler", "event_handler")
    ),
    Section("Messages", "chanspec.runtime.messages", ("Message",)),
    Section(
        "Channel layers",
        "chanspec.runtime.layers",
        ("LayerSpec", "register_layers", "layer_url", "build_layer", "require_layers"),
    ),
    Section("Frames and error codes", "chanspec.runtime.frames", ("ErrorCode", "error_frame")),
    Section("Errors", "chanspec.runtime.errors", ("ConsumerDefinitionError", "ChannelLayerError")),
    Section(
        "Testing with the communicator",
        "chanspec.runtime.testing",
        (
            "Communicator",
            "Communicator.connect",
            "Communicator.disconnect",
            "Communicator.send",
            "Communicator.send_bytes",
            "Communicator.receive",
            "Communicator.receive_message",
            "Communicator.receive_until",
            "Communicator.receive_nothing",
            "Communicator.instance",
            "Communicator.channel_name",
            "Communicator.connected",
            "Communicator.scope",
            "path_params_for",
            "CommunicatorError",
            "ClosedError",
        ),
    ),
    Section("Typed clients", "chanspec.runtime.client", None),
    Section("The emitted document", "chanspec.runtime.asyncapi.emit", ("build_document",)),
)

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`~?([^`]+)`")
_SECTION = re.compile(r"^(Args|Arguments|Returns|Raises|Attributes|Yields|Example|Examples):\s*$")
_ITEM = re.compile(r"^([\w.*, ]+?)(?: \(([^)]*)\))?:\s+(.*)$")


def _inline(text: str) -> str:
    """Inline reST -> Markdown: roles to `Name`, ``code`` to `code`."""

    def role(match: re.Match[str]) -> str:
        target = match.group(1)
        return f"`{target.rsplit('.', 1)[-1] if '.' in target else target}`"

    text = _ROLE.sub(role, text)
    return re.sub(r"``(.+?)``", r"`\1`", text)


def docstring_markdown(doc: str | None) -> str:
    """Convert one docstring (as written in the runtime) to Markdown.

    Google-style sections become a bold label and a bullet per entry (``name: text`` with
    continuation lines joined); other indented text under a section is kept as paragraphs; a
    paragraph ending in ``::`` is followed by its indented literal block as a Python code
    block. Returns ``""`` for no docstring.
    """
    if not doc:
        return ""
    lines = inspect.cleandoc(doc).splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.fullmatch(r"=+( +=+)+", line):
            end = i + 1
            borders = 1
            while end < len(lines) and borders < 3:
                borders += bool(re.fullmatch(r"=+( +=+)+", lines[end]))
                end += 1
            out += _rst_table(lines[i:end])
            i = end
            continue
        section = _SECTION.match(line)
        if section is not None:
            out += [f"**{section.group(1)}:**", ""]
            i += 1
            items: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                body = lines[i]
                if not body.strip():
                    i += 1
                    continue
                indent = len(body) - len(body.lstrip())
                text = body.strip()
                item = _ITEM.match(text) if indent <= 4 else None
                if item is not None and section.group(1) not in ("Example", "Examples"):
                    name, kind, rest = item.groups()
                    kind_text = f" ({kind})" if kind else ""
                    items.append(f"- `{name}`{kind_text}: {rest}")
                elif items:
                    items[-1] += " " + text
                else:
                    items.append(text)
                i += 1
            out += [_inline(item) for item in items]
            out.append("")
            continue
        if line.rstrip().endswith("::"):
            lead = line.rstrip()[:-2].rstrip()
            if lead:
                out.append(_inline(lead + ":"))
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith(" ")):
                block.append(lines[i])
                i += 1
            code = inspect.cleandoc("\n".join(block))
            language = "json" if code.startswith(("{", "[")) else "python"
            out += ["", f"```{language}", code, "```", ""]
            continue
        out.append(_inline(line))
        i += 1
    parts = re.split(r"(```.*?```)", "\n".join(out), flags=re.S)
    text = "".join(p if p.startswith("```") else _inline(p) for p in parts)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _rst_table(lines: list[str]) -> list[str]:
    """A reST simple table (``===  ===`` borders) as a Markdown table.

    Column bounds come from the first border; a row whose first cell is empty continues the
    row above it.
    """
    border = lines[0]
    spans = [(m.start(), m.end()) for m in re.finditer(r"=+", border)]
    rows: list[list[str]] = []
    for line in lines[1:]:
        if re.fullmatch(r"[= ]+", line):
            continue
        cells = []
        for n, (start, _) in enumerate(spans):
            stop = len(line) if n == len(spans) - 1 else spans[n + 1][0]
            cells.append(line[start:stop].strip())
        if rows and not cells[0]:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    if not rows:
        return []
    head, *body = rows
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return ["", *out, ""]


class _Annotation:
    """An annotation shown as written in the source (the runtime uses postponed annotations)."""

    def __init__(self, text: Any) -> None:
        self.text = text if isinstance(text, str) else inspect.formatannotation(text)

    def __repr__(self) -> str:
        return str(self.text)


def _signature(name: str, obj: Any, *, method: bool = False) -> str:
    """``def name(...) -> ...`` (or ``class``) with annotations as written, wrapped at 96.

    ``self``/``cls`` is left out for classes and for ``method=True``.
    """
    func = obj.__init__ if inspect.isclass(obj) else obj
    sig = inspect.signature(func)
    params = list(sig.parameters.values())
    if (inspect.isclass(obj) or method) and params and params[0].name in ("self", "cls"):
        params = params[1:]
    params = [
        p.replace(annotation=_Annotation(p.annotation))
        if p.annotation is not inspect.Parameter.empty
        else p
        for p in params
    ]
    # a function or class as default: its name, not its repr (which has a memory address)
    params = [
        p.replace(default=_Annotation(p.default.__name__))
        if p.default is not inspect.Parameter.empty
        and (inspect.isfunction(p.default) or inspect.isclass(p.default))
        else p
        for p in params
    ]
    returns = (
        inspect.Signature.empty
        if sig.return_annotation is inspect.Signature.empty or inspect.isclass(obj)
        else _Annotation(sig.return_annotation)
    )
    shown = sig.replace(parameters=params, return_annotation=returns)
    keyword = "class" if inspect.isclass(obj) else "def"
    prefix = "async def" if inspect.iscoroutinefunction(obj) else keyword
    one_line = f"{prefix} {name}{shown}"
    if len(one_line) <= 96:
        return one_line
    text = str(shown)
    inner, tail = text[1 : text.rindex(")")], text[text.rindex(")") + 1 :]
    parts = _split_params(inner)
    body = "".join(f"    {part},\n" for part in parts)
    return f"{prefix} {name}(\n{body}){tail}"


def _split_params(inner: str) -> list[str]:
    """Split a parameter list on top-level commas (not inside brackets or quotes)."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    current = ""
    for char in inner:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _enum_table(cls: type[enum.Enum]) -> list[str]:
    rows = ["| member | value |", "|---|---|"]
    rows += [f"| `{m.name}` | `{m.value}` |" for m in cls]
    return [*rows, ""]


def _member(module: ModuleType, dotted: str) -> list[str]:
    owner_name, _, attr = dotted.rpartition(".")
    if owner_name:
        owner = getattr(module, owner_name)
        raw = inspect.getattr_static(owner, attr)
        if isinstance(raw, property):
            doc = docstring_markdown(raw.__doc__)
            return [f"#### `{dotted}` (property)", "", doc]
        func = getattr(owner, attr)
        kind = " (class method)" if isinstance(raw, classmethod) else ""
        target = raw.__func__ if isinstance(raw, classmethod) else func
        signature = _signature(attr, target, method=True)
        lines = [f"#### `{dotted}`{kind}", "", "```python", signature, "```", ""]
        return [*lines, docstring_markdown(target.__doc__)]
    obj = getattr(module, attr)
    lines = [f"### `{attr}`", ""]
    if inspect.isclass(obj) and issubclass(obj, enum.Enum):
        lines += [docstring_markdown(obj.__doc__), *_enum_table(obj)]
        return lines
    if inspect.isclass(obj) and obj.__init__ is object.__init__:
        return [*lines, docstring_markdown(obj.__doc__)]
    if inspect.isclass(obj) and (
        issubclass(obj, BaseException)
        or _is_framework_init(obj)
        or getattr(obj, "_is_protocol", False)
    ):
        bases = ", ".join(b.__name__ for b in obj.__bases__)
        lines += ["```python", f"class {attr}({bases})", "```", ""]
        return [*lines, docstring_markdown(obj.__doc__)]
    if not callable(obj) or type(obj).__module__ in ("types", "typing"):  # a type alias
        shown = re.sub(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)", r"\1", repr(obj))
        return [*lines, "```python", f"{attr} = {shown}", "```", ""]
    lines += ["```python", _signature(attr, obj), "```", ""]
    return [*lines, docstring_markdown(obj.__doc__)]


def _is_constant(value: object) -> bool:
    return isinstance(value, int | str | float) and not isinstance(value, enum.Enum)


def _is_framework_init(cls: type) -> bool:
    """The class's ``__init__`` is inherited from a library (not part of our API)."""
    init_owner = next((k for k in cls.__mro__ if "__init__" in vars(k)), object)
    return not init_owner.__module__.startswith("chanspec.")


def api_markdown() -> str:
    """The Markdown page documenting the runtime API (:data:`SECTIONS`), deterministic."""
    lines = [
        "# Runtime API reference",
        "",
        "What generated apps import (`from chanspec.runtime import ...`) and what tests use",
        "(`from chanspec.runtime.testing import Communicator`). The runtime depends on pydantic,",
        "fast-channels, redis, starlette and PyYAML only.",
        "",
        "Generated from the docstrings: "
        "`python -m chanspec.codegen.api_reference > docs/runtime-api.md`.",
        "",
    ]
    lines += [f"- [{s.title}](#{_anchor(s.title)})" for s in SECTIONS]
    lines.append("")
    for section in SECTIONS:
        module = importlib.import_module(section.module)
        lines += [f"## {section.title}", "", f"`{section.module}`", ""]
        lines += [docstring_markdown(module.__doc__)]
        names = section.members if section.members is not None else tuple(module.__all__)
        constants = [n for n in names if "." not in n and _is_constant(getattr(module, n))]
        for member in names:
            if member not in constants:
                lines += _member(module, member)
        if constants:
            lines += ["### Constants", "", "| name | value |", "|---|---|"]
            lines += [f"| `{n}` | `{getattr(module, n)!r}` |" for n in constants]
            lines.append("")
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def _anchor(title: str) -> str:
    """GitHub's heading anchor: lower-case, punctuation dropped, spaces to ``-``."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


if __name__ == "__main__":
    print(api_markdown(), end="")

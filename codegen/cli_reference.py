"""The CLI reference, rendered as Markdown from the click command tree for ``docs/cli.md``.

Regenerate the page with ``python -m chanspec.codegen.cli_reference > docs/cli.md``;
``tests/test_docs.py`` fails when it is out of date. Everything on the page comes from the
commands themselves: usage lines from click, help texts from the command docstrings, each
option's flags, metavar and help (with ``[default: ...]`` where click shows one), and the exit
codes from the docstring of :mod:`chanspec.codegen.cli`.
"""

from __future__ import annotations

import inspect

import click

from . import cli

__all__ = ["cli_markdown"]


def _cell(text: str) -> str:
    """``text`` made safe for one Markdown table cell (GFM splits on ``|`` even in code)."""
    return " ".join(text.split()).replace("|", "\\|")


def _usage(command: click.Command, ctx: click.Context) -> str:
    pieces = " ".join(command.collect_usage_pieces(ctx))
    return f"{ctx.command_path} {pieces}".rstrip()


def _params(command: click.Command, ctx: click.Context) -> list[str]:
    rows: list[str] = []
    for param in command.get_params(ctx):
        if isinstance(param, click.Argument):
            make = param.make_metavar
            name = make(ctx) if _takes_ctx(make) else param.human_readable_name
            optional = "" if param.required else " (optional)"
            rows.append(f"| `{_cell(name)}` | argument{optional} |")
            continue
        record = param.get_help_record(ctx)
        is_help = param.name == "help" or "--help" in getattr(param, "opts", ())
        if record is None or is_help:  # hidden; --help is said once at the top (and its name
            # differs between click versions, so it is recognised by its flag too)
            continue
        flags, help_text = record
        rows.append(f"| `{_cell(flags)}` | {_cell(help_text)} |")
    if not rows:
        return []
    return ["| argument / option | description |", "|---|---|", *rows, ""]


def _takes_ctx(method: object) -> bool:
    """click 8.2 passes ``ctx`` to ``make_metavar``; 8.1 takes none."""
    try:
        return "ctx" in inspect.signature(method).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _section(command: click.Command, ctx: click.Context, level: str) -> list[str]:
    lines = [f"{level} `{ctx.command_path}`", "", "```text", _usage(command, ctx), "```", ""]
    help_text = inspect.cleandoc(command.help or "")
    if help_text:
        lines += [help_text, ""]
    lines += _params(command, ctx)
    return lines


def cli_markdown() -> str:
    """The Markdown page documenting every ``chanspec`` command and option.

    Commands appear in alphabetical order, each as a ``##`` section with its usage line, its
    help text and a table of its arguments and options. Deterministic: nothing depends on the
    terminal width or the environment.
    """
    group = cli.main
    root = click.Context(group, info_name="chanspec", **group.context_settings)
    exit_codes = inspect.cleandoc(cli.__doc__ or "").split("\n\n", 1)[-1]
    lines = [
        "# CLI reference",
        "",
        "Generated from the click commands: "
        "`python -m chanspec.codegen.cli_reference > docs/cli.md`.",
        "Every command also takes `-h`/`--help`.",
        "",
        " ".join(exit_codes.split()),
        "",
        *_section(group, root, "##")[:-1],
        "",
    ]
    names = sorted(group.list_commands(root))
    lines += [f"- [`chanspec {name}`](#chanspec-{name})" for name in names]
    lines.append("")
    for name in names:
        command = group.get_command(root, name)
        if command is None:
            continue
        ctx = click.Context(command, info_name=name, parent=root, **command.context_settings)
        lines += _section(command, ctx, "##")
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(cli_markdown(), end="")

"""``[tool.chanspec]`` in pyproject.toml: discovery, paths, CLI overrides, unknown keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from chanspec.codegen.cli import main
from chanspec.codegen.config import Config, ConfigError, find_pyproject, load_config
from click.testing import CliRunner, Result

from .servers import REPO

SHOWCASE = REPO / "specs" / "showcase.asyncapi.yaml"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def project(root: Path, table: str, *, spec_at: str = "api/spec.yaml") -> Path:
    """A project at ``root``: a pyproject.toml with ``table`` and the showcase spec."""
    (root / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.chanspec]\n{table}')
    spec = root / spec_at
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(SHOWCASE.read_text())
    return spec


def test_no_table_gives_an_empty_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_pyproject(deep) == (tmp_path / "pyproject.toml").resolve()
    assert load_config(deep) == Config(source=(tmp_path / "pyproject.toml").resolve())


def test_discovered_from_a_subdirectory_with_paths_relative_to_the_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path, 'spec = "api/spec.yaml"\noutput = "src/app"\npackage = "my_app"\n')
    sub = tmp_path / "docs" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    config = load_config()
    assert config.source == (tmp_path / "pyproject.toml").resolve()
    assert config.spec is not None and config.output is not None
    assert config.spec.resolve() == (tmp_path / "api" / "spec.yaml").resolve()
    assert config.output.resolve() == (tmp_path / "src" / "app").resolve()
    assert config.package == "my_app" and config.allow_remote is None

    # run from the subdirectory: files land next to the pyproject, not in the cwd
    result = run("generate")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "src" / "app" / "consumers" / "system.py").is_file()
    assert not (sub / "src").exists()
    assert "uvicorn my_app.main:app" in (tmp_path / "src" / "app" / "main.py").read_text()
    assert run("check").exit_code == 0


def test_cli_arguments_override_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path, 'spec = "missing.yaml"\noutput = "from_config"\nallow-remote = true\n')
    monkeypatch.chdir(tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(SHOWCASE.read_text())
    result = run("generate", other, "-o", "from_cli", "--package", "cli_pkg", "--no-allow-remote")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from_cli" / "consumers" / "system.py").is_file()
    assert not (tmp_path / "from_config").exists()
    assert "uvicorn cli_pkg.main:app" in (tmp_path / "from_cli" / "main.py").read_text()
    assert run("check", other, "-o", "from_cli").exit_code == 0
    # only the output from the file, the spec from the command line
    result = run("generate", other)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from_config" / "consumers" / "system.py").is_file()
    # the spec from the file is used when none is given, and its problem says so
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert "missing.yaml" in result.output


def test_unknown_key_is_a_usage_error_naming_key_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path, 'spec = "api/spec.yaml"\noutptu = "app"\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="outptu"):
        load_config()
    for command in (["generate"], ["check", "api/spec.yaml", "-o", "app"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, result.output
        assert "unknown key 'outptu'" in result.output
        assert str((tmp_path / "pyproject.toml").resolve()) in result.output
    assert not (tmp_path / "app").exists()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('allow-remote = "yes"\n', "allow-remote must be true or false"),
        ("spec = 3\n", "spec must be a non-empty string"),
        ('chanspec = "x"\n', "unknown key 'chanspec'"),
    ],
)
def test_bad_values_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, message: str
) -> None:
    project(tmp_path, table)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["generate", "api/spec.yaml", "-o", "app"])
    assert result.exit_code == 2 and message in result.output, result.output


def test_invalid_toml_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.chanspec\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "s.yaml", "-o", "app"])
    assert result.exit_code == 2 and "cannot be read as TOML" in result.output


def test_missing_spec_and_output_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.chanspec]\npackage = "p"\n')
    monkeypatch.chdir(tmp_path)
    for command in ("generate", "check"):
        result = CliRunner().invoke(main, [command])
        assert result.exit_code == 2
        assert "missing argument SPEC" in result.output and "[tool.chanspec]" in result.output
        result = CliRunner().invoke(main, [command, "spec.yaml"])
        assert result.exit_code == 2 and "missing option -o/--output" in result.output

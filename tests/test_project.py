"""Checks of the project's own layout: manifest, HACS data, engine boundaries."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path
import re
import struct
import sys
import tomllib

import pytest

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "lighting_replay"
ENGINE = INTEGRATION / "engine"

# Modules the engine may import besides the standard library (ARCHITECTURE.md).
ENGINE_THIRD_PARTY = {"numpy", "astral"}
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "shelve", "marshal", "dill", "joblib"}


def _manifest() -> dict[str, object]:
    manifest: dict[str, object] = json.loads(
        (INTEGRATION / "manifest.json").read_text(encoding="utf-8")
    )
    return manifest


def _engine_sources() -> list[Path]:
    sources = sorted(ENGINE.rglob("*.py"))
    assert sources, f"no engine sources under {ENGINE}"
    return sources


def _imports(path: Path) -> list[tuple[str, int]]:
    """Return (absolute module name or '' for relative, line) of every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append(("" if node.level else node.module or "", node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "__import__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append((str(node.args[0].value), node.lineno))
    return found


def _lock_version(lock: str, package: str) -> str:
    text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(package)}==(\S+)$", text, re.MULTILINE)
    assert match, f"{package} is not pinned in requirements/{lock}"
    return match.group(1)


def test_manifest_keys_and_order() -> None:
    manifest = _manifest()
    keys = list(manifest)
    # hassfest's order: domain, name, then the rest alphabetically.
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == "lighting_replay" == INTEGRATION.name
    assert manifest["name"] == "Lighting Replay"
    assert manifest["config_flow"] is True
    assert manifest["iot_class"] in {
        "assumed_state",
        "calculated",
        "cloud_polling",
        "cloud_push",
        "local_polling",
        "local_push",
    }
    assert manifest["integration_type"] in {
        "device",
        "entity",
        "hardware",
        "helper",
        "hub",
        "service",
        "system",
        "virtual",
    }
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(manifest["version"]))
    codeowners = manifest["codeowners"]
    assert isinstance(codeowners, list)
    assert codeowners
    assert all(str(owner).startswith("@") for owner in codeowners)
    for url_key in ("documentation", "issue_tracker"):
        assert str(manifest[url_key]).startswith("https://")
    assert "recorder" in manifest["dependencies"]  # type: ignore[operator]


def test_manifest_requires_nothing_to_install() -> None:
    """Home Assistant's own numpy and astral are enough (no wheels on musl)."""
    assert _manifest()["requirements"] == []


def test_manifest_version_matches_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert _manifest()["version"] == pyproject["project"]["version"]


def test_hacs_minimum_is_the_oldest_tested_home_assistant() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert hacs["name"] == _manifest()["name"]
    assert hacs["homeassistant"] == _lock_version("min.lock", "homeassistant")


def test_environment_runs_a_locked_home_assistant() -> None:
    """The running Home Assistant is one of the two the locks pin."""
    from homeassistant.const import __version__ as ha_version

    assert ha_version in {
        _lock_version("min.lock", "homeassistant"),
        _lock_version("latest.lock", "homeassistant"),
    }


@pytest.mark.parametrize("path", _engine_sources(), ids=lambda p: p.name)
def test_engine_imports_only_stdlib_numpy_astral(path: Path) -> None:
    allowed = set(sys.stdlib_module_names) | ENGINE_THIRD_PARTY
    for module, line in _imports(path):
        if not module:
            continue  # relative: another engine module
        top = module.split(".")[0]
        assert top != "homeassistant", f"{path.name}:{line} imports Home Assistant"
        assert top not in {"custom_components", "lighting_replay_engine"}, (
            f"{path.name}:{line}: engine modules import each other relatively"
        )
        assert top in allowed, f"{path.name}:{line} imports {module}"


@pytest.mark.parametrize("path", _engine_sources(), ids=lambda p: p.name)
def test_engine_never_pickles(path: Path) -> None:
    for module, line in _imports(path):
        assert module.split(".")[0] not in PICKLE_MODULES, (
            f"{path.name}:{line} imports {module}"
        )
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "allow_pickle":
            assert isinstance(node.value, ast.Constant), f"{path.name}: allow_pickle"
            assert node.value.value is False, f"{path.name}: allow_pickle=True"


def test_engine_is_one_folder_under_two_names() -> None:
    by_trainer = importlib.import_module("lighting_replay_engine")
    by_integration = importlib.import_module("custom_components.lighting_replay.engine")
    paths = {Path(p).resolve() for p in by_trainer.__path__}
    assert paths == {ENGINE.resolve()}
    assert {Path(p).resolve() for p in by_integration.__path__} == paths
    for source in _engine_sources():
        if source.name == "__init__.py" or source.parent != ENGINE:
            continue
        name = source.stem
        a = importlib.import_module(f"lighting_replay_engine.{name}")
        b = importlib.import_module(f"custom_components.lighting_replay.engine.{name}")
        assert a.__file__ is not None
        assert b.__file__ is not None
        assert Path(a.__file__).resolve() == Path(b.__file__).resolve() == source


def test_pyproject_maps_engine_onto_the_integration() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_dir = pyproject["tool"]["setuptools"]["package-dir"]
    assert (ROOT / package_dir["lighting_replay_engine"]).resolve() == ENGINE
    scripts = pyproject["project"]["scripts"]
    assert scripts["lighting-replay"] == "lighting_replay_trainer.cli:main"


@pytest.mark.parametrize(("name", "size"), [("icon.png", 256), ("icon@2x.png", 512)])
def test_brand_icon_is_a_square_png(name: str, size: int) -> None:
    data = (INTEGRATION / "brand" / name).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (size, size)


def test_licence_is_the_one_pyproject_names() -> None:
    """HACS wants an OSI licence in the repository: MIT, as pyproject says."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text


def test_workflows_run_hacs_hassfest_and_the_test_command() -> None:
    """The repository's workflows: HACS and hassfest validation, `.ci/run`."""
    workflows = ROOT / ".github" / "workflows"
    texts = "\n".join(p.read_text(encoding="utf-8") for p in workflows.glob("*.yml"))
    assert "uses: hacs/action@" in texts
    assert "category: integration" in texts
    assert "uses: home-assistant/actions/hassfest@" in texts
    assert "bash .ci/run" in texts

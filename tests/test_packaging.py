"""The distribution installs one top-level import name, ``greenlane``, with every package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import greenlane

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("data", "emissions", "fleet", "routing", "webapp")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (path,) = out.glob("greenlane-*.whl")
    return path


def test_wheel_has_one_top_level_name(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        assert zf.read(info).decode().split() == ["greenlane"]
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"greenlane", f"greenlane-{greenlane.__version__}.dist-info"}
    for pkg in PACKAGES:
        assert f"greenlane/{pkg}/__init__.py" in names, pkg
    # data, templates and migrations ship with the code
    assert "greenlane/data/hubs.csv" in names
    assert "greenlane/webapp/migrations/env.py" in names
    assert "greenlane/webapp/migrations/versions/0001_initial.py" in names
    assert any(n.startswith("greenlane/webapp/templates/ui/") for n in names)


def test_links_map_the_owner_folders() -> None:
    for pkg in PACKAGES:
        link = ROOT / "greenlane" / pkg
        assert link.is_symlink() and link.resolve() == (ROOT / pkg).resolve(), pkg
        assert (ROOT / pkg / "__init__.py").is_file(), pkg


def test_every_package_states_its_public_api() -> None:
    import importlib

    for pkg in PACKAGES:
        module = importlib.import_module(f"greenlane.{pkg}")
        public = getattr(module, "__all__", None)
        assert public, pkg
        missing = [name for name in public if not hasattr(module, name)]
        assert missing == [], (pkg, missing)

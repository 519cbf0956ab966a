"""requirements.txt is what production installs, complete and free of test packages;
requirements-dev.txt adds the test suite's packages on top. Complete means on every Python the
project supports, not only the one running the suite: a dependency some Python needs (redis
needs async-timeout before 3.11.3) is pinned with the same environment marker."""

import json
import re
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.live import ROOT

# The Node projects the suite installs on its first run (tests/node.py).
NODE_PROJECTS = ["tests/accounts/interop", "tests/typescript"]
TEST_PACKAGES = {"pytest", "pytest-django", "pytest-xdist", "schemathesis", "hypothesis"}

# The Pythons the requirements must be complete on: Debian 12's, this one, and the newer ones.
PYTHONS = ["3.11.2", "3.11.9", "3.12.8", "3.13.1"]
PIN = re.compile(r"[A-Za-z0-9_.\-\[\],]+==[0-9][\w.+]*( *;.+)?")


def environment(python: str) -> dict[str, str]:
    """This machine's marker environment, as if it ran `python` (a full version)."""
    return default_environment() | {"python_full_version": python, "python_version": python.rsplit(".", 1)[0]}


def pinned(filename: str) -> dict[str, Requirement]:
    """The packages a requirements file pins, by canonical name."""
    packages = {}
    for line in (ROOT / filename).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        assert PIN.fullmatch(line), f"{filename}: not an exact pin: {line}"
        requirement = Requirement(line)
        packages[canonicalize_name(requirement.name)] = requirement
    return packages


def applies(requirement: Requirement, python: str, extras=("",)) -> bool:
    env = environment(python)
    return requirement.marker is None or any(requirement.marker.evaluate(env | {"extra": e}) for e in extras)


def unpinned_dependencies(packages: dict[str, Requirement], available: dict[str, Requirement]) -> list[str]:
    """Dependencies of the installed `packages` (with their extras) that `available` lacks on some Python."""
    missing = set()
    for python in PYTHONS:
        pins = {name for name, requirement in available.items() if applies(requirement, python)}
        for name, requirement in packages.items():
            if not applies(requirement, python):
                continue
            try:
                requires = metadata.requires(name) or []
            except metadata.PackageNotFoundError:
                continue  # needed by another Python only; pip checks its dependencies there
            for raw in requires:
                dependency = Requirement(raw)
                if (
                    applies(dependency, python, {"", *requirement.extras})
                    and canonicalize_name(dependency.name) not in pins
                ):
                    missing.add(f"{name} needs {dependency.name} on Python {python}")
    return sorted(missing)


def test_production_installs_no_test_package():
    assert not TEST_PACKAGES & pinned("requirements.txt").keys()


def test_everything_production_imports_is_pinned_in_requirements_txt():
    runtime = pinned("requirements.txt")
    assert unpinned_dependencies(runtime, runtime) == []


def test_a_dependency_of_older_pythons_only_is_pinned_with_its_marker():
    runtime = pinned("requirements.txt")
    assert str(runtime["async-timeout"].marker) == 'python_full_version < "3.11.3"'
    del runtime["async-timeout"]
    assert "redis needs async-timeout on Python 3.11.2" in unpinned_dependencies(runtime, runtime)


def test_the_dev_requirements_add_the_test_packages_on_top_of_production():
    text = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in text.splitlines()
    runtime, dev = pinned("requirements.txt"), pinned("requirements-dev.txt")
    assert dev.keys() >= TEST_PACKAGES
    assert not runtime.keys() & dev.keys(), "pinned in both files"
    assert unpinned_dependencies(dev, runtime | dev) == []


def test_the_suites_node_projects_install_without_compiling_anything():
    for project in NODE_PROJECTS:
        packages = json.loads((ROOT / project / "package-lock.json").read_text())["packages"]
        scripted = [name for name, package in packages.items() if package.get("hasInstallScript")]
        assert scripted == [], f"{project}: install scripts (native builds) in {scripted}"

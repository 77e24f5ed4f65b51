"""Every public function, method and class of the checked modules has a numpydoc docstring that
documents all its parameters and, when it returns a value, a Returns section (numpydoc's own
validator, codes GL08/PR01/PR02/RT01). Units belong in the parameter and return descriptions
(docs/architecture.md, "Units and conventions")."""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from numpydoc.validate import validate   # a test dependency (pyproject [test], scripts/setup.sh --test)

REPO = Path(__file__).resolve().parents[1]
CODES = {"GL08", "PR01", "PR02", "RT01"}


def _modules() -> list[str]:
    names = []
    for pkg in ("centrality", "geoproc"):
        for path in sorted((REPO / pkg).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__main__":
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(parts))
    return [n for n in names if not n.split(".")[-1].startswith("_")]


def _public_objects(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", False
        elif inspect.isclass(obj):
            yield f"{module.__name__}.{name}", True
            for member, value in vars(obj).items():
                if not member.startswith("_") and (inspect.isfunction(value)
                                                   or isinstance(value, (classmethod, staticmethod, property))):
                    yield f"{module.__name__}.{name}.{member}", False


@pytest.mark.parametrize("module_name", _modules())
def test_public_functions_have_numpydoc_docstrings(module_name):
    module = importlib.import_module(module_name)
    problems = []
    for qualname, is_class in _public_objects(module):
        codes = {"GL08"} if is_class else CODES
        errors = [f"{code} {message}" for code, message in validate(qualname)["errors"] if code in codes]
        if errors:
            problems.append(f"{qualname}: {'; '.join(errors)}")
    assert not problems, "\n".join(problems)


def test_the_check_can_fail():
    """A function without a Parameters section is reported (the test above is not vacuous)."""
    errors = {code for code, _ in validate("tests.test_docstrings._undocumented")["errors"]}
    assert {"PR01", "RT01"} <= errors


def _undocumented(value):
    """Nothing about the parameter."""
    return value


def test_every_module_is_checked():
    """No module is left out (the formerly pending ones included)."""
    names = set(_modules())
    assert {"centrality.paths", "centrality.parallel", "centrality.synthetic_national"} <= names
    assert len(names) > 50

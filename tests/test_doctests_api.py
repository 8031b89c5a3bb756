"""Every public name has an example: a numpydoc ``Examples`` section with a ``>>>`` line.

Covered: every name of ``rm_analytics.__all__`` (functions, classes, errors; not
``__version__`` and not the modules kept as attributes) and every public function of the
modules of :mod:`rm_analytics.metrics`. The examples themselves run under
``pytest --doctest-modules``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types

import pytest

import rm_analytics as rm
import rm_analytics.metrics

_SECTION = re.compile(r"^Examples\n-{3,}\n(?P<body>.*?)(?=^[^\s\n][^\n]*\n-{3,}\n|\Z)", re.M | re.S)


def examples_of(obj) -> str | None:
    """The body of the docstring's ``Examples`` section, or None."""
    doc = inspect.getdoc(obj) or ""
    found = _SECTION.search(doc)
    return found.group("body") if found else None


def _api_names() -> list[str]:
    return sorted(
        name
        for name in rm.__all__
        if name != "__version__" and not isinstance(getattr(rm, name), types.ModuleType)
    )


def _metrics_functions() -> list[str]:
    out = []
    for info in pkgutil.iter_modules(rm_analytics.metrics.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"rm_analytics.metrics.{info.name}")
        out += [
            f"{module.__name__}.{name}"
            for name, obj in vars(module).items()
            if inspect.isfunction(obj)
            and obj.__module__ == module.__name__
            and not name.startswith("_")
        ]
    return sorted(out)


def _has_example(obj) -> bool:
    body = examples_of(obj)
    return body is not None and any(line.lstrip().startswith(">>>") for line in body.splitlines())


def test_the_check_sees_a_missing_section():
    def documented():
        """Do it.

        Examples
        --------
        >>> documented()
        """

    def prose_only():
        """Do it.

        Examples
        --------
        Call it.

        Notes
        -----
        >>> prose_only()
        """

    def bare():
        """Do it.

        >>> bare()
        """

    assert _has_example(documented)
    assert not _has_example(prose_only)  # a >>> in another section does not count
    assert not _has_example(bare)  # a doctest without the numpydoc section does not count


def test_the_lists_are_not_empty():
    assert {"Pilot", "load_sample", "pilot_retention", "DataValidationError"} <= set(_api_names())
    assert "rm_analytics.metrics.retention.pilot_retention" in _metrics_functions()


@pytest.mark.parametrize("name", _api_names())
def test_public_name_has_an_example(name):
    assert _has_example(getattr(rm, name)), (
        f"rm_analytics.{name} has no numpydoc 'Examples' section with a '>>>' line"
    )


@pytest.mark.parametrize("qualname", _metrics_functions())
def test_metrics_function_has_an_example(qualname):
    module, _, name = qualname.rpartition(".")
    obj = getattr(importlib.import_module(module), name)
    assert _has_example(obj), f"{qualname} has no numpydoc 'Examples' section with a '>>>' line"

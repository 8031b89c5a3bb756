"""Every public function and class of ``rm_analytics.stats`` shows how it is called.

"Public": the module's ``__all__`` when it has one, else every function or class defined in the
module (not imported into it) whose name has no leading underscore. Each needs a numpydoc
``Examples`` section with at least one ``>>>`` line; pytest runs those examples as doctests
(``--doctest-modules`` in ``pyproject.toml``), so what they print is checked too.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import rm_analytics.stats as stats_pkg

MODULES = sorted(
    info.name
    for info in pkgutil.iter_modules(stats_pkg.__path__, prefix="rm_analytics.stats.")
    if not info.name.rpartition(".")[2].startswith("_")
)


def _public(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module_name
        ]
    return [f"{module_name}.{n}" for n in sorted(names)]


PUBLIC = [name for m in MODULES for name in _public(m)]

#: "Examples" underlined with dashes, then a ">>>" line before the next section
EXAMPLES = re.compile(r"^Examples\n-{8,}\n(?:(?!^\w[\w ]*\n-{3,}\n).)*?^>>> ", re.M | re.S)


def test_the_walk_finds_every_module_and_enough_names():
    assert {m.rpartition(".")[2] for m in MODULES} >= {
        "bayes",
        "cox",
        "design",
        "intervals",
        "meta",
        "ols",
        "power",
        "sequential",
        "strata",
        "survival",
    }
    assert len(PUBLIC) >= 70


@pytest.mark.parametrize("qualname", PUBLIC)
def test_public_name_has_a_runnable_example(qualname):
    module_name, _, name = qualname.rpartition(".")
    obj = getattr(importlib.import_module(module_name), name)
    doc = inspect.getdoc(obj) or ""
    # a dataclass without a docstring gets its signature as __doc__: no Examples in it
    assert EXAMPLES.search(doc), f"{qualname} has no Examples section with a '>>>' line"

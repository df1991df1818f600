"""The package's layers (DESIGN.md): the core is one unit, every later package imports only the
core and the packages above it, and only the core's files import each other in a circle.

Every import counts: at module level and inside functions (a lazy import is a dependency all
the same), absolute and relative, and ``importlib.import_module`` of a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "aprende"
FACADE = "aprende"  # __init__.py: re-exports everything, the layers lazily

# The tensor, its engine and its ops: one unit, the only one whose files may import in a circle.
# linalg is torch.linalg's namespace over the ops; cuda is torch.cuda's over the backend;
# threads is torch.set_num_threads's, over NumPy's BLAS library.
CORE = ("backend", "_tensor", "autograd", "creation", "ops", "linalg", "cuda", "threads")


class Layer(NamedTuple):
    name: str  # the module or package under aprende/
    reason: str = ""  # why it sits here, for a module DESIGN.md's tree does not list
    only: tuple[str, ...] | None = None  # stricter than the order: all it may import besides itself


# After the core, in DESIGN.md's order: a layer imports the core and the layers above it only.
LAYERS = [
    Layer("nn"),
    Layer("optim"),
    Layer("data"),
    Layer("datasets"),
    Layer("terminal", "the terminal's width and plain-text mode: standard library only"),
    Layer("metrics", only=("backend", "terminal")),
    Layer("models"),
    Layer("training"),
    Layer("serialization", "safetensors files of state dicts and models: needs models, training"),
    Layer("classic"),
    Layer("plots"),
    Layer("graph"),
    Layer("distributed"),
    Layer("sklearn"),
    Layer("onnx"),
    Layer("report"),
    Layer("config", "the run settings (TOML): needs nn's activation names, only the cli reads it"),
    Layer("cli"),
    Layer("__main__", "`python -m aprende`: starts the cli"),
]
RANK = {"core": 0} | {layer.name: i for i, layer in enumerate(LAYERS, start=1)}
PLACED = {*CORE, *(layer.name for layer in LAYERS)}
ONLY = {layer.name: layer.only for layer in LAYERS if layer.only is not None}
PLACE_IT = (
    "place it in LAYERS in tests/test_layers.py, below the layers it imports and above those "
    "that import it, with a one-line reason"
)


class Source(NamedTuple):
    module: str  # dotted: "aprende.nn.linear"
    path: str  # for messages: "src/aprende/nn/linear.py"
    text: str
    is_package: bool  # an __init__.py, where a relative import starts from the package itself


class Import(NamedTuple):
    source: Source
    line: int
    target: str  # the dotted module imported


def package_sources(package: Path = PACKAGE) -> list[Source]:
    """Every Python file of the package, as a Source."""
    found = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        text = path.read_text(encoding="utf-8")
        found.append(Source(module, path.relative_to(ROOT).as_posix(), text, is_package))
    return found


def top(module: str) -> str:
    """The name under aprende/ a module belongs to ("aprende.nn.linear" -> "nn")."""
    return module.split(".")[1] if "." in module else FACADE


def layer_of(module: str) -> str | None:
    """The layer ``module`` is in: "core", a layer's name, or None when nobody placed it. The
    façade counts as core (its eager imports are the core's, a test below checks)."""
    name = top(module)
    if name in CORE or name == FACADE:
        return "core"
    return name if name in PLACED else None


def facade_names(sources: list[Source]) -> dict[str, str]:
    """Each name the façade imports eagerly -> the module it comes from."""
    facade = next(s for s in sources if s.module == FACADE)
    names = {}
    for node in ast.parse(facade.text).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            names.update({alias.asname or alias.name: node.module for alias in node.names})
    return names


def _is_ours(module: str | None) -> bool:
    return module is not None and (module == FACADE or module.startswith(FACADE + "."))


def imports_of(source: Source, modules: set[str], facade: dict[str, str]) -> list[Import]:
    """The package modules ``source`` imports, each with its line; ``from P import x`` imports
    the module P.x when there is one (or a layer of that name), else P itself."""
    found = []
    for node in ast.walk(ast.parse(source.text, source.path)):
        if isinstance(node, ast.Import):
            found += [Import(source, node.lineno, a.name) for a in node.names if _is_ours(a.name)]
        elif isinstance(node, ast.ImportFrom):
            base = node.module
            if node.level:
                package = source.module.split(".")
                package = package if source.is_package else package[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            if not _is_ours(base):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if candidate in modules or (base == FACADE and alias.name in PLACED):
                    target = candidate
                elif base == FACADE:
                    target = facade.get(alias.name, FACADE)
                else:
                    target = base
                found.append(Import(source, node.lineno, target))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and _is_ours(node.args[0].value)
        ):
            found.append(Import(source, node.lineno, node.args[0].value))
    return found


def all_imports(sources: list[Source]) -> list[Import]:
    """Every import of every file but the façade's (it re-exports everything, so it is exempt)."""
    modules = {s.module for s in sources}
    facade = facade_names(sources)
    return [
        found
        for source in sources
        if source.module != FACADE
        for found in imports_of(source, modules, facade)
    ]


def unplaced(sources: list[Source]) -> list[str]:
    return [
        f"{s.path}: {s.module} is in no layer: {PLACE_IT}"
        for s in sources
        if s.module != FACADE and layer_of(s.module) is None
    ]


def layering_errors(sources: list[Source]) -> list[str]:
    """One message per import that breaks the order: file:line, what it imports, the rule."""
    errors = []
    for source, line, target in all_imports(sources):
        importer, imported = layer_of(source.module), layer_of(target)
        where = f"{source.path}:{line}: {source.module} imports {target}"
        if importer is None:
            continue  # reported by unplaced()
        if imported is None:
            errors.append(f"{where}, which is in no layer: {PLACE_IT}")
        elif importer in ONLY:
            if imported != importer and top(target) not in ONLY[importer]:
                allowed = ", ".join(f"aprende.{name}" for name in ONLY[importer])
                errors.append(f"{where}, but {importer} may import only {allowed}")
        elif RANK[imported] > RANK[importer]:
            above = [layer.name for layer in LAYERS if RANK[layer.name] < RANK[importer]]
            allowed = "only the core" + (f" and {', '.join(above)}" if above else "")
            rule = "the core imports" if importer == "core" else f"{importer} may import"
            errors.append(f"{where}, but {rule} {allowed} ({imported} comes after {importer})")
    return errors


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, stack = set(), [start]
    while stack:
        for nxt in graph.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def cycles_outside_the_core(sources: list[Source]) -> list[str]:
    """Each set of files that import each other in a circle, unless all of it is the core.

    A file's edges are the imports it writes; the package __init__ Python runs before a
    submodule is not one (else every package would be a circle with its own files).
    """
    modules = {s.module for s in sources} - {FACADE}
    edges = [i for i in all_imports(sources) if i.target in modules]
    graph: dict[str, set[str]] = {}
    for found in edges:
        graph.setdefault(found.source.module, set()).add(found.target)
    reach = {module: _reachable(graph, module) for module in graph}
    components = {
        frozenset({module} | {other for other in reach[module] if module in reach.get(other, ())})
        for module in graph
        if module in reach[module]
    }
    return [
        "files that import each other in a circle (only the core may): "
        + "; ".join(
            sorted(
                f"{i.source.path}:{i.line} {i.source.module} -> {i.target}"
                for i in edges
                if i.source.module in component and i.target in component
            )
        )
        for component in sorted(components, key=sorted)
        if any(layer_of(module) != "core" for module in component)
    ]


SOURCES = package_sources()


def test_the_order_names_each_layer_once():
    names = [*CORE, *(layer.name for layer in LAYERS)]
    assert len(names) == len(set(names))
    assert all(name in PLACED for only in ONLY.values() for name in only)


def test_every_module_is_in_a_layer():
    errors = unplaced(SOURCES)
    assert not errors, "\n".join(errors)


def test_each_layer_imports_only_the_core_and_the_layers_above_it():
    errors = layering_errors(SOURCES)
    assert not errors, "\n".join(errors)


def test_only_the_core_imports_in_a_circle():
    errors = cycles_outside_the_core(SOURCES)
    assert not errors, "\n".join(errors)


def test_import_aprende_loads_only_the_core():
    """The façade is exempt from the order because its module-level imports are the core's."""
    facade = next(s for s in SOURCES if s.module == FACADE)
    body = ast.parse(facade.text).body
    eager = [node for node in body if isinstance(node, ast.Import | ast.ImportFrom)]
    eager_only = facade._replace(text="\n".join(ast.unparse(node) for node in eager))
    targets = {i.target for i in imports_of(eager_only, {s.module for s in SOURCES}, {})}
    assert targets and {layer_of(target) for target in targets} == {"core"}, sorted(targets)


# ---- the checker itself: fed synthetic files, it reports what it should -----------------------


def fake(module: str, text: str) -> Source:
    path = f"src/{module.replace('.', '/')}.py"
    return Source(module, path, text, is_package=False)


def errors_about(source: Source, check=layering_errors) -> list[str]:
    """What ``check`` says about ``source`` set among the package's real files."""
    return [e for e in check([*SOURCES, source]) if source.path in e]


@pytest.mark.parametrize(
    ("module", "text", "expected"),
    [
        (
            "aprende.nn.fake",
            "import math\n\n\ndef f():\n    from aprende.training import fit\n",
            "src/aprende/nn/fake.py:5: aprende.nn.fake imports aprende.training, but nn may "
            "import only the core (training comes after nn)",
        ),
        (
            "aprende.nn.fake",
            "from ..training import loop\n",
            "src/aprende/nn/fake.py:1: aprende.nn.fake imports aprende.training.loop, but nn may",
        ),
        (
            "aprende.training.fake",
            "from aprende import plots\n",
            "imports aprende.plots, but training may import only the core and nn, optim, data, "
            "datasets, terminal, metrics, models (plots comes after training)",
        ),
        (
            "aprende.training.fake",
            "import importlib\nimportlib.import_module('aprende.cli')\n",
            "src/aprende/training/fake.py:2: aprende.training.fake imports aprende.cli, but",
        ),
        (
            "aprende.metrics.fake",
            "from aprende import no_grad\n",
            "imports aprende.autograd, but metrics may import only aprende.backend",
        ),
        ("aprende.ops.fake", "import aprende.nn.module\n", "but the core imports only the core"),
        ("aprende.plots.fake", "import aprende.scratch\n", f"which is in no layer: {PLACE_IT}"),
    ],
)
def test_the_checker_reports_an_import_against_the_order(module, text, expected):
    found = errors_about(fake(module, text))
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize(
    "text",
    ["from aprende.backend import to_numpy\n", "from aprende import metrics, float32\n"],
)
def test_the_checker_lets_a_layer_import_the_core_and_the_layers_above_it(text):
    assert errors_about(fake("aprende.training.fake", text)) == []


def test_the_checker_asks_to_place_a_new_module():
    assert errors_about(fake("aprende.scratch", ""), unplaced) == [
        f"src/aprende/scratch.py: aprende.scratch is in no layer: {PLACE_IT}"
    ]


def test_the_checker_finds_a_circle_outside_the_core_and_allows_one_inside():
    def circle(first: str, second: str) -> list[str]:
        pair = [fake(first, f"import {second}\n"), fake(second, f"def f():\n    import {first}\n")]
        return [e for e in cycles_outside_the_core([*SOURCES, *pair]) if first in e]

    assert circle("aprende.ops.fake_a", "aprende.ops.fake_b") == []
    assert circle("aprende.training.fake_a", "aprende.training.fake_b") == [
        "files that import each other in a circle (only the core may): "
        "src/aprende/training/fake_a.py:1 aprende.training.fake_a -> aprende.training.fake_b; "
        "src/aprende/training/fake_b.py:2 aprende.training.fake_b -> aprende.training.fake_a"
    ]

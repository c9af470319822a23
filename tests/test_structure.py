"""The shape of the code, checked: thin per-rank classes, STYLE.md's size budget and
the import layering of DESIGN.md.

Each check reads the source (``ast``), so it fails on the commit that breaks the
rule: a fat ``Conv2D``, a 70-line function, an import cycle or an upward import.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
import re
import textwrap

import pytest

import lamina
from lamina.layers import Layer

PACKAGE = pathlib.Path(lamina.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _parse(path: pathlib.Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


# ------------------------------------------------------------ thin rank classes
RANKED = re.compile(r"^[A-Z]\w*[123]D(Transpose)?$")
# Attributes every class body gets from Python itself.
CLASS_BOILERPLATE = {
    "__module__",
    "__qualname__",
    "__doc__",
    "__firstlineno__",
    "__static_attributes__",
}


def _rank_classes() -> list[type]:
    """Every public per-rank layer class (Conv2D, MaxPooling3D, Cropping1D, ...),
    each once; Keras 1/2 names made by the translation table are not classes of
    their own."""
    found = {}
    for name in lamina.layers.__all__:
        obj = getattr(lamina.layers, name)
        if (
            isinstance(obj, type)
            and issubclass(obj, Layer)
            and RANKED.match(obj.__name__)
            and not obj.__module__.endswith(".legacy")
        ):
            found[obj.__name__] = obj
    return [found[name] for name in sorted(found)]


def assert_thin(cls: type) -> None:
    """Only ``__init__`` (and the docstring); its body is one ``super().__init__``
    call passing ``rank=`` the digit in the class name, every argument on by name,
    and perhaps constants that pick the family member (``pool_mode="max"``)."""
    extra = set(cls.__dict__) - CLASS_BOILERPLATE
    assert extra == {"__init__"}, f"{cls.__name__} defines {sorted(extra)}"
    function = ast.parse(textwrap.dedent(inspect.getsource(cls.__init__))).body[0]
    (statement,) = function.body
    call = statement.value
    assert isinstance(statement, ast.Expr) and isinstance(call, ast.Call)
    assert call.func.attr == "__init__" and call.func.value.func.id == "super"
    keywords = {k.arg: k.value for k in call.keywords}
    rank = int(next(ch for ch in cls.__name__ if ch.isdigit()))
    assert keywords.pop("rank").value == rank
    passed = {k for k, v in keywords.items() if isinstance(v, ast.Name) and v.id == k}
    params = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    assert passed == params, f"{cls.__name__} does not pass {params ^ passed} on"
    constants = {k: v for k, v in keywords.items() if k and k not in passed}
    assert all(isinstance(v, ast.Constant) for v in constants.values()), constants


def test_the_rank_classes_are_found():
    names = {cls.__name__ for cls in _rank_classes()}
    expected = {
        "Conv2D", "Conv3DTranspose", "SeparableConv1D", "DepthwiseConv2D",
        "MaxPooling1D", "GlobalAveragePooling3D", "AdaptiveMaxPooling2D",
        "Cropping3D", "ZeroPadding2D", "UpSampling1D", "LocallyConnected2D",
        "SpatialDropout3D",
    }  # fmt: skip
    assert expected <= names


@pytest.mark.parametrize("cls", _rank_classes(), ids=lambda cls: cls.__name__)
def test_per_rank_classes_hold_only_signature_docstring_and_super_init(cls):
    assert_thin(cls)


# ------------------------------------------------------------------- size
MAX_FUNCTION_LINES = 60  # body and signature; the docstring is not counted
MAX_CLASS_LINES = 450


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _code_lines(node) -> int:
    """Lines of ``node`` without its docstring."""
    lines = node.end_lineno - node.lineno + 1
    body = node.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        lines -= body[0].end_lineno - body[0].lineno + 1
    return lines


def _shown(path: pathlib.Path) -> str:
    return str(
        path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE) else path
    )


def long_functions(paths=SOURCES) -> list[str]:
    return [
        f"{_shown(path)}:{node.lineno} {node.name} ({_code_lines(node)} lines)"
        for path in paths
        for node in _functions(_parse(path))
        if _code_lines(node) > MAX_FUNCTION_LINES
    ]


def long_classes(paths=SOURCES) -> list[str]:
    return [
        f"{_shown(path)}:{node.lineno} {node.name} ({_code_lines(node)} lines)"
        for path in paths
        for node in ast.walk(_parse(path))
        if isinstance(node, ast.ClassDef) and _code_lines(node) > MAX_CLASS_LINES
    ]


def test_no_function_is_longer_than_the_budget():
    assert long_functions() == []


def test_no_class_is_longer_than_the_budget():
    assert long_classes() == []


# ---------------------------------------------------------------- layering
# DESIGN.md's layers, lowest first: a module may import modules of its own level
# or below at module level. Longest prefix wins.
LEVELS = {
    "lamina.version": 0,
    "lamina.config": 0,
    "lamina.utils.validation": 0,
    "lamina.utils.naming": 0,
    "lamina.utils.tree": 0,
    "lamina.saving.registry": 0,
    "lamina.saving.file_io": 0,
    "lamina.utils": 1,
    "lamina.dtype_policies": 1,
    "lamina.variables": 1,
    "lamina.random": 1,
    "lamina.saving.serialization": 1,
    "lamina.keras_tensor": 1,  # below ops, which recognise symbolic inputs
    "lamina.activations": 2,
    "lamina.initializers": 2,
    "lamina.regularizers": 2,
    "lamina.constraints": 2,
    "lamina.quantizers": 2,
    "lamina.ops": 3,
    "lamina.utils.numerical_utils": 3,
    "lamina.utils.bounding_boxes": 3,
    "lamina.utils.image_utils": 3,  # resizes with keras.ops.image
    "lamina.utils.image_dataset": 3,
    "lamina.layers": 4,
    "lamina.optimizers": 5,
    "lamina.losses": 5,
    "lamina.metrics": 5,
    "lamina.callbacks": 5,
    "lamina.trainers": 6,
    "lamina.saving": 7,
    "lamina.models": 8,
    "lamina.datasets": 9,
    "lamina.applications": 9,
    "lamina.mixed_precision": 9,
    "lamina.backend": 9,
    "lamina.utils.plot": 9,
    "lamina.preprocessing": 9,
    "lamina.distribution": 9,
    "lamina.export": 9,
    "lamina.cli": 10,
    "lamina": 10,
}
MAX_FUNCTION_LEVEL_IMPORTS = 10


def level(module: str) -> int:
    while module not in LEVELS:
        module = module.rpartition(".")[0]
    return LEVELS[module]


class ImportGraph:
    """lamina's own imports: module-level edges, and the imports written inside
    functions (with the comment that gives their reason)."""

    def __init__(self, paths=SOURCES):
        self.modules = {_module_name(p): p for p in paths}
        self.edges: dict[str, set[str]] = {m: set() for m in self.modules}
        self.local: list[tuple[str, int, str, str]] = []  # module, line, target, why
        for module, path in self.modules.items():
            self._scan(module, path)

    def _resolve(self, name: str) -> str | None:
        while name and name not in self.modules:
            name = name.rpartition(".")[0]
        return name or None

    def _targets(self, module, path, node) -> list[str]:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in self.modules else base
                for a in node.names
            ]
        resolved = [self._resolve(n) for n in names if n.split(".")[0] == "lamina"]
        return [t for t in resolved if t and t != module]

    def _scan(self, module, path) -> None:
        lines = path.read_text().splitlines()

        def visit(node, in_function):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    for target in self._targets(module, path, child):
                        if in_function:
                            why = _comment_near(lines, child.lineno)
                            self.local.append((module, child.lineno, target, why))
                        self.edges[module].add(target)
                nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                visit(child, in_function or nested)

        visit(_parse(path), False)

    def cycles(self) -> list[list[str]]:
        """Strongly connected components with more than one module (Tarjan)."""
        index, low, stack, on_stack, found = {}, {}, [], set(), []

        def strong(v):
            index[v] = low[v] = len(index)
            stack.append(v)
            on_stack.add(v)
            for w in sorted(self.edges[v]):
                if w not in index:
                    strong(w)
                    low[v] = min(low[v], low[w])
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

        for v in sorted(self.edges):
            if v not in index:
                strong(v)
        return found

    def upward(self) -> list[str]:
        """Module-level imports of a higher level than the importer's."""
        local = {(m, t) for m, _, t, _ in self.local}
        return [
            f"{m} -> {t}"
            for m, targets in self.edges.items()
            for t in sorted(targets)
            if (m, t) not in local and level(t) > level(m)
        ]


def _comment_near(lines: list[str], lineno: int) -> str:
    """The comment on the import line or the line above it ('' if none)."""
    for text in (lines[lineno - 1], lines[lineno - 2] if lineno > 1 else ""):
        if "#" in text:
            return text.split("#", 1)[1].strip()
    return ""


@pytest.fixture(scope="module")
def graph():
    return ImportGraph()


def test_the_package_has_no_import_cycle(graph):
    """Counting imports inside functions too: a lazy import that closes a cycle
    is still a cycle."""
    assert graph.cycles() == []


def test_no_module_imports_a_higher_layer(graph):
    assert graph.upward() == []


def test_imports_inside_functions_are_few_and_say_why(graph):
    statements = {(module, line) for module, line, *_ in graph.local}
    assert len(statements) <= MAX_FUNCTION_LEVEL_IMPORTS, graph.local
    assert [entry for entry in graph.local if not entry[3]] == []


# ------------------------------------------- the checks catch what they guard
def test_a_cycle_an_upward_import_and_an_undocumented_lazy_import_are_caught(
    tmp_path,
):
    root = tmp_path / "lamina"
    (root / "layers").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "config.py").write_text("from lamina.layers import dense\n")
    (root / "layers" / "__init__.py").write_text("")
    (root / "layers" / "dense.py").write_text(
        "def f():\n    from lamina import config\n"
    )
    paths = sorted(root.rglob("*.py"))
    probe = ImportGraph.__new__(ImportGraph)
    probe.modules = {
        ".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(
            ".__init__"
        ): p
        for p in paths
    }
    probe.edges = {m: set() for m in probe.modules}
    probe.local = []
    for module, path in probe.modules.items():
        probe._scan(module, path)
    assert probe.cycles() == [["lamina.config", "lamina.layers.dense"]]
    assert probe.upward() == ["lamina.config -> lamina.layers.dense"]
    assert [why for *_, why in probe.local] == [""]


def test_a_fat_rank_class_and_a_long_function_are_caught(tmp_path):
    class Conv9D(Layer):
        def __init__(self, filters, **kwargs):
            super().__init__(rank=9, **kwargs)

        def call(self, inputs):
            return inputs

    with pytest.raises(AssertionError, match="defines"):
        assert_thin(Conv9D)
    body = "".join(f"    x = {i}\n" for i in range(MAX_FUNCTION_LINES))
    path = tmp_path / "long.py"
    path.write_text(f"def long():\n{body}")
    assert len(long_functions([path])) == 1
    path.write_text(f"def fine():\n{body[: -len('    x = 59') - 1]}")
    assert long_functions([path]) == []

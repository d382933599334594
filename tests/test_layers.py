"""Imports follow the flow of data: no module imports from a higher layer, and no modules import each other.

Every `import` and `from ... import` in `src/abplan` counts, at module level and inside functions
(a lazy import is still a dependency); `from x import y` counts as an import of `x.y` when that is
a module. Imports under `if TYPE_CHECKING:` never run, so they count for the layers but not for cycles; nor do a
registry's lazy `"module:object"` entries, which are resolved only after both modules are loaded.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first. A module may import from its own layer and the layers before it, never after.
# Data flows upwards: a paper is read (papers), sent to a model (lm) through prompts and parsed
# replies, planned (planners), judged (judges) and scored (bench); api and the CLI drive them all.
# A lower layer must never need to know a higher one exists, so each can be tested and replaced alone.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # shared data types and utilities that know nothing about papers or models
    (
        "core",
        (
            "abplan._version",
            "abplan.errors",
            "abplan.fsutil",
            "abplan.limits",
            "abplan.redact",
            "abplan.registry",
            "abplan.schema",
            "abplan.text_match",
        ),
    ),
    ("papers", ("abplan.papers",)),  # reading a paper needs no model
    # the prompt templates are data: the prompt export (lm) tells judge requests by their system prompt
    ("prompts", ("abplan.prompts",)),
    ("lm", ("abplan.lm",)),  # the client knows requests and replies, not what they are for
    # reply parsing, plan files and quote checks: shared by planners, judges and the dataset builder
    ("text", ("abplan.parsing", "abplan.render", "abplan.grounding")),
    ("planners", ("abplan.planners",)),
    # one ablation designed as a protocol, a plan as a study, and the design judge
    ("design", ("abplan.design",)),
    ("judges", ("abplan.judges",)),  # judge plans, whoever made them
    ("bench", ("abplan.bench",)),  # runs planners and judges over tasks
    ("view", ("abplan.view",)),  # shows runs and plans: reads what bench wrote, never runs anything
    # settings from flags, environment and file; the library API; helpers shipped for tests
    ("api", ("abplan.config", "abplan.api", "abplan.testing", "abplan")),
    ("cli", ("abplan.cli", "abplan.cli_", "abplan.__main__")),
]


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    line: int
    runtime: bool  # False under `if TYPE_CHECKING:`


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted((SRC / "abplan").rglob("*.py")):
        parts = list(p.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def layer_of(module: str) -> int:
    """The layer whose longest prefix matches (`abplan.cli_` matches `abplan.cli_bench`)."""
    best, best_len = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for pre in prefixes:
            hit = (
                module == pre
                or module.startswith(pre + ".")
                or (pre.endswith("_") and module.startswith(pre))
            )
            if hit and len(pre) > best_len:
                best, best_len = i, len(pre)
    assert best >= 0, f"{module} is in no layer: add it to LAYERS"
    return best


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                for n in ast.walk(sub):
                    if hasattr(n, "lineno"):
                        lines.add(n.lineno)
    return lines


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "abplan"]
    if node.level:
        is_pkg = MODULES[module].name == "__init__.py"
        base = module.split(".") if is_pkg else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        name = ".".join([*base, *([node.module] if node.module else [])])
    else:
        name = node.module or ""
    if name.split(".")[0] != "abplan":
        return []
    return [f"{name}.{a.name}" if f"{name}.{a.name}" in MODULES else name for a in node.names]


def imports() -> list[Edge]:
    edges: list[Edge] = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        typing_only = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for dst in _targets(module, node):
                    if dst != module:
                        assert dst in MODULES, f"{module}:{node.lineno} imports {dst}, which does not exist"
                        edges.append(Edge(module, dst, node.lineno, node.lineno not in typing_only))
    return edges


def cycles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in edges:
        if e.runtime:
            graph[e.src].add(e.dst)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_is_in_a_layer() -> None:
    assert len(MODULES) > 50  # the walk found the package
    for m in MODULES:
        layer_of(m)


def test_no_import_from_a_higher_layer() -> None:
    edges = imports()
    assert any(e.src == "abplan.cli" for e in edges)  # imports were found at all
    bad = [
        f"{e.src}:{e.line} ({LAYERS[layer_of(e.src)][0]}) imports {e.dst} ({LAYERS[layer_of(e.dst)][0]})"
        for e in edges
        if layer_of(e.dst) > layer_of(e.src)
    ]
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def lazy_entries() -> list[Edge]:
    """Registry entries spelled `"abplan.module:object"`: imports by another name, made on first use."""
    edges = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                target, _, obj = node.value.partition(":")
                if target in MODULES and obj.replace(".", "").isidentifier():
                    edges.append(Edge(module, target, node.lineno, False))
    return edges


def test_lazy_registry_entries_follow_the_layers_too() -> None:
    edges = lazy_entries()
    assert any(e.src == "abplan.planners.base" and e.dst == "abplan.planners.staged.planner" for e in edges)
    bad = [f"{e.src}:{e.line} names {e.dst}" for e in edges if layer_of(e.dst) > layer_of(e.src)]
    assert not bad, "lazy entries against the layers:\n" + "\n".join(bad)


def test_no_import_cycle() -> None:
    found = cycles(imports())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_checks_see_lazy_imports_cycles_and_layers() -> None:
    """The walk catches what it is meant to: function-level imports, `from pkg import module`, cycles."""
    a = Edge("abplan.cli", "abplan.cli_bench", 1, True)
    b = Edge("abplan.cli_bench", "abplan.cli", 2, True)
    assert cycles([a, b]) == [["abplan.cli", "abplan.cli_bench"]]
    assert cycles([a, Edge("abplan.cli_bench", "abplan.cli", 2, False)]) == []
    assert layer_of("abplan.judges.base") > layer_of("abplan.planners.base") > layer_of("abplan.lm.client")
    assert layer_of("abplan.cli_bench") == layer_of("abplan.cli") > layer_of("abplan")
    tree = ast.parse("def f():\n    from abplan.papers import latex\n")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))
    assert _targets("abplan.papers.hidden", node) == ["abplan.papers.latex"]
    rel = next(n for n in ast.walk(ast.parse("from . import latex")) if isinstance(n, ast.ImportFrom))
    assert _targets("abplan.papers.hidden", rel) == ["abplan.papers.latex"]

"""The package's imports go one way: README's "How the code is laid out" places every module of `hala/` in a layer, and
no module imports from a higher layer or in a circle, and nothing outside the toy world (`assets`, `toytext`, `pico`) imports it."""
import ast, re
from pathlib import Path

from conftest import ROOT

PKG = ROOT/"hala"
MODULES = sorted(p.stem for p in PKG.glob("*.py") if p.stem not in ("__init__", "_modidx"))

def imports(path: Path) -> set[str]:
    "The `hala` modules a file imports anywhere in it (module level and inside functions)."
    out = set()
    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.ImportFrom):
            if n.level == 1: out |= {n.module.split(".")[0]} if n.module else {a.name for a in n.names}
            elif n.module == "hala": out |= {a.name for a in n.names}
            elif n.module and n.module.startswith("hala."): out.add(n.module.split(".")[1])
        elif isinstance(n, ast.Import):
            out |= {a.name.split(".")[1] for a in n.names if a.name.startswith("hala.")}
    return out & set(MODULES) - {path.stem}

def readme_layers(text: str) -> dict[str, int]:
    "{module: layer number} from the README's layer table."
    sec = text.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    out = {}
    for row in re.findall(r"^\| (\d+) [^|]*\| ([^|]*) \|", sec, re.M):
        for m in re.findall(r"`(\w+)`", row[1]): out[m] = int(row[0])
    return out

GRAPH = {m: imports(PKG/f"{m}.py") for m in MODULES}

def cycles(graph: dict) -> list[list[str]]:
    "Strongly connected components of more than one module (Tarjan)."
    idx, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        idx[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in sorted(graph[v]):
            if w not in idx: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in sorted(graph):
        if v not in idx: visit(v)
    return out

def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []

def test_the_readme_places_every_module():
    layers = readme_layers((ROOT/"README.md").read_text(encoding="utf-8"))
    assert sorted(layers) == MODULES, f"place these in README's layer table: {sorted(set(MODULES) - set(layers))}; gone: {sorted(set(layers) - set(MODULES))}"

def test_no_import_cycle():
    assert cycles(GRAPH) == []

def test_no_upward_import_and_the_ground_imports_nothing():
    layer = readme_layers((ROOT/"README.md").read_text(encoding="utf-8"))
    up = [f"{m} (layer {layer[m]}) imports {d} (layer {layer[d]})" for m in MODULES for d in sorted(GRAPH[m]) if layer[d] > layer[m]]
    assert up == []
    assert all(not GRAPH[m] for m in MODULES if layer[m] == 1), {m: GRAPH[m] for m in MODULES if layer[m] == 1}

TOY_WORLD = {"assets", "toytext", "pico"}

def test_nothing_outside_the_toy_world_imports_it():
    "The preflight and the paper stages do not depend on the toy world: its facts about the paper models live in data/ (`hala.refs`)."
    assert [f"{m} imports {sorted(GRAPH[m] & TOY_WORLD)}" for m in MODULES if m not in TOY_WORLD and GRAPH[m] & TOY_WORLD] == []

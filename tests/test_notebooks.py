"The notebooks are the source: nbdev keeps package and notebooks in sync, papermill's tags survive, library notebooks run."
import hashlib, json, subprocess, sys
from pathlib import Path

import pytest

from conftest import ROOT
from hala.core import stage_notebooks

BIN = Path(sys.executable).parent
LIBRARY_NBS = sorted(p for p in (ROOT/"nbs").glob("[0-9][0-9]*_*.ipynb") if p not in stage_notebooks())

def _snapshot():
    files = [*(ROOT/"nbs").glob("*.ipynb"), *(ROOT/"hala").glob("*.py")]
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

def test_nbdev_export_and_clean_leave_the_tree_unchanged():
    before = _snapshot()
    for cmd in ("nbdev-export", "nbdev-clean"):
        subprocess.run([str(BIN/cmd)], cwd=ROOT, check=True, capture_output=True)
    after = _snapshot()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"run nbdev-export and nbdev-clean, then commit: they changed {changed}"

def test_parameters_tag_survives_nbdev_clean(tmp_path):
    nb = json.loads((ROOT/"nbs"/"00_core.ipynb").read_text())
    nb["cells"][0]["metadata"]["scratch"] = 1  # metadata nbdev-clean should strip
    p = ROOT/"nbs"/"_tmp_clean_check.ipynb"
    try:
        p.write_text(json.dumps(nb))
        subprocess.run([str(BIN/"nbdev-clean"), "--fname", str(p)], cwd=ROOT, check=True, capture_output=True)
        cleaned = json.loads(p.read_text())
    finally: p.unlink(missing_ok=True)
    tagged = [c for c in cleaned["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and "scratch" not in cleaned["cells"][0]["metadata"]

@pytest.mark.parametrize("nb", stage_notebooks(), ids=lambda p: p.stem)
def test_stage_notebook_shape(nb):
    cells = json.loads(nb.read_text())["cells"]
    params = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(params) == 1, "exactly one papermill parameters cell"
    src = "".join(params[0]["source"])
    names = [l.split("=")[0].strip() for l in src.splitlines() if "=" in l]
    assert names[:3] == ["profile", "overrides", "force"]
    for line in src.splitlines():  # primitives only, one comment each
        assert "#" in line and line.split("=", 1)[1].split("#")[0].strip()[0] in "\"'0123456789-TFN", line
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    assert not any("nbdev_export" in "".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert any(f'finish_stage(cfg, STAGE' in "".join(c["source"]) for c in cells[-2:]), "the last cells write the manifest"

@pytest.mark.parametrize("nb", LIBRARY_NBS, ids=lambda p: p.stem)
def test_library_notebook_runs(nb):
    r = subprocess.run([str(BIN/"nbdev-test"), str(nb), "--do-print"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]

def test_readme_is_generated_from_index():
    r = subprocess.run([str(BIN/"jupyter"), "nbconvert", "--to", "markdown", "--stdout", "nbs/index.ipynb"],
                       cwd=ROOT, capture_output=True, text=True, check=True)
    assert r.stdout == (ROOT/"README.md").read_text(), \
        "README.md is out of date: jupyter nbconvert --to markdown --stdout nbs/index.ipynb > README.md"

def test_every_name_a_notebook_uses_is_defined_or_imported_in_it(tmp_path):
    "Each notebook's code cells, read top to bottom as one script, use no name they do not define or import (ruff F821): a stage notebook that leaned on its module's imports fails here, not an hour into a run."
    for nb in sorted((ROOT/"nbs").glob("*.ipynb")):
        code = ["\n".join(l for l in "".join(c["source"]).splitlines() if not l.lstrip().startswith(("%", "!")))
                for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
        (tmp_path/f"{nb.stem}.py").write_text("\n\n".join(code) + "\n")
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", "F821", "--config", "builtins = ['display']",
                        "--output-format", "concise", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]

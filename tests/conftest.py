import os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def hala(*args, timeout=3600, env=None):
    "Run the `hala` console script; returns the CompletedProcess (text)."
    exe = shutil.which("hala", path=str(Path(sys.executable).parent)) or "hala"
    return subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})

@pytest.fixture
def roots(tmp_path):
    "`--set` arguments that send a run's models and results into a temporary folder."
    return ["--set", f"run_root={tmp_path/'runs'}", "--set", f"results_root={tmp_path/'results'}",
            "--set", f"toy_world.wheel_dir={ROOT/'runs'/'sources'}"]

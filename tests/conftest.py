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


@pytest.fixture(scope="session")
def toy_run(tmp_path_factory):
    "One full `hala reproduce --profile toy` in a temporary folder: (results dir, runs dir, --set args, process)."
    import time
    base = tmp_path_factory.mktemp("toy")
    roots = ["--set", f"run_root={base/'runs'}", "--set", f"results_root={base/'results'}",
             "--set", f"toy_world.wheel_dir={ROOT/'runs'/'sources'}"]
    t0 = time.time()
    r = hala("reproduce", "--profile", "toy", "--no-progress", *roots)
    print(r.stdout, f"\nfirst run: {time.time() - t0:.0f}s")
    assert r.returncode == 0, r.stdout + r.stderr
    yield base/"results"/"toy", base/"runs"/"toy", roots, r
    hala("hub", "stop", "--profile", "toy", *roots)  # a later test's process may have started the run folder's local hub


@pytest.fixture(scope="session", autouse=True)
def _stop_local_hubs(tmp_path_factory):
    "Stop every local hub a test's run folder started (each records its pid in <run folder>/hub.json)."
    yield
    import json, signal
    for f in tmp_path_factory.getbasetemp().rglob("hub.json"):
        try: os.killpg(json.loads(f.read_text())["pid"], signal.SIGTERM)
        except (OSError, ValueError, KeyError): pass

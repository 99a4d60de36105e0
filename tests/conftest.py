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


def _cpu_flags() -> set:
    try: return {w for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags") for w in l.split(":", 1)[1].split()}
    except OSError: return set()

# The toy run of this suite computes as a machine without AVX-512 would: MKL's GEMMs on their AVX2 code path (the
# results' largest source of drift between CPUs), ATen's and oneDNN's kernels at AVX2. results/toy was made at the
# machine's default kernels, so the suite compares across machines wherever it runs (on a CPU without AVX2 it already does).
OTHER_MACHINE = {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"} if "avx2" in _cpu_flags() else {}

@pytest.fixture(scope="session")
def toy_run(tmp_path_factory):
    "One full `hala reproduce --profile toy` in a temporary folder, as another machine computes it: (results dir, runs dir, --set args, process)."
    import time
    base = tmp_path_factory.mktemp("toy")
    roots = ["--set", f"run_root={base/'runs'}", "--set", f"results_root={base/'results'}",
             "--set", f"toy_world.wheel_dir={ROOT/'runs'/'sources'}"]
    t0 = time.time()
    r = hala("reproduce", "--profile", "toy", "--no-progress", *roots, env=OTHER_MACHINE)
    print(r.stdout, f"\nfirst run: {time.time() - t0:.0f}s (kernels: {OTHER_MACHINE or 'the machine default'})")
    assert r.returncode == 0, r.stdout + r.stderr
    yield base/"results"/"toy", base/"runs"/"toy", roots, r
    hala("hub", "stop", "--profile", "toy", *roots)  # a later test's process may have started the run folder's local hub


@pytest.fixture(scope="session", autouse=True)
def _stop_local_hubs(tmp_path_factory):
    "Stop every local hub a test's run folder started (each records its pid in <run folder>/hub.json), and the project's own run folder's if the tests started it."
    from hala.core import load_profile
    from hala.hub import hub_status
    own = hub_status(load_profile("toy")) is not None
    yield
    if not own and hub_status(load_profile("toy")) is not None: hala("hub", "stop", "--profile", "toy")
    import json, signal
    for f in tmp_path_factory.getbasetemp().rglob("hub.json"):
        try: os.killpg(json.loads(f.read_text())["pid"], signal.SIGTERM)
        except (OSError, ValueError, KeyError): pass


def vllm_python() -> Path:
    "The vLLM environment's Python (this machine's build), built from its lock when missing (`hala.envs.ensure_env`): a build that fails fails the test that needs it."
    from hala.base import HalaError
    from hala.envs import ensure_env
    try: return ensure_env("vllm", ROOT)
    except HalaError as e: pytest.fail(f"the vLLM environment could not be built: {e}")


CHROMIUM_LINE = "apt-get install -y chromium chromium-driver"

def pytest_report_header(config):
    "What the suite needs that it cannot install itself, said before the tests run."
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return f"Debian's chromium is missing (the site test fails without it): {CHROMIUM_LINE}"

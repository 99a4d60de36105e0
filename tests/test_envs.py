"""Side environments (`hala.envs`): built from their locks by uv on demand, never rebuilt once complete, and a lock that no
longer installs fails in one line naming the package."""
import os, shutil

from conftest import ROOT, hala


def test_a_lock_naming_a_version_that_is_gone_fails_in_one_line_naming_it(tmp_path):
    "uv offline over a folder of wheels (the toy world's two): the lock's one version that folder lacks is named, exit 2, no traceback."
    wheels = tmp_path/"wheels"; wheels.mkdir()
    for w in (ROOT/"runs"/"sources").glob("arrand-*.whl"): shutil.copy(w, wheels)
    (tmp_path/"data"/"env").mkdir(parents=True)
    (tmp_path/"data"/"env"/"hub.lock").write_text("arrand==0.2.0\nhala-gone-from-the-index==1.0\n")
    env = {"HALA_ROOT": str(tmp_path), "UV_NO_INDEX": "1", "UV_OFFLINE": "1", "PIP_FIND_LINKS": str(wheels), "UV_FIND_LINKS": ""}
    r = hala("env", "build", "hub", env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    err = [l for l in r.stderr.splitlines() if l.startswith("hala: error:")]
    assert len(err) == 1 and "Traceback" not in r.stderr, r.stderr
    assert err[0].startswith("hala: error: data/env/hub.lock: hala-gone-from-the-index cannot be installed"), err[0]
    assert "building .venv-hub from data/env/hub.lock" in r.stderr  # what it was doing, before it failed
    assert (tmp_path/".venv-hub"/"hala-env.building").exists()  # unfinished: the next call takes it up again, never uses it
    r2 = hala("env", "status", "hub", env=env)
    assert "hub: .venv-hub incomplete" in r2.stdout, r2.stdout + r2.stderr


def test_a_complete_environment_is_never_rebuilt():
    "The project's local hub environment: built from its lock if it is missing, then asked for again: nothing is done."
    r = hala("env", "build", "hub")
    assert r.returncode == 0, r.stdout + r.stderr
    mark = ROOT/".venv-hub"/"hala-env.json"
    before = mark.stat().st_mtime_ns if mark.exists() else None  # an environment the README's pip lines built has no mark
    r = hala("env", "build", "hub")
    assert r.returncode == 0 and "building" not in r.stderr and "updating" not in r.stderr, r.stderr
    assert (mark.stat().st_mtime_ns if mark.exists() else None) == before
    assert hala("env", "status", "hub").stdout.split(".venv-hub ")[1].split()[0] in ("complete", "pip")


def test_the_side_locks_hold_their_direct_pins():
    "Every pin of data/env/<env>.txt is in <env>.lock at the same version (`hala env lock` keeps them in step), and the CPU build's lock leaves out what does not import beside its torch."
    import re
    for txt in sorted((ROOT/"data"/"env").glob("*.txt")):
        lock = {m.group(1).lower().replace("_", "-"): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", txt.with_suffix(".lock").read_text(), re.M)}
        for name, ver in re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", txt.read_text(), re.M):
            assert lock.get(name.lower().replace("_", "-")) == ver, (txt.name, name, ver, lock.get(name.lower()))
    cpu = (ROOT/"data"/"env"/"vllm-cpu.lock").read_text()
    assert re.search(r"^torch==2\.13\.0\+cpu$", cpu, re.M) and not re.search(r"^torch(vision|audio|codec)==", cpu, re.M)
    assert os.path.exists(ROOT/"uv.lock") and (ROOT/"data"/"env"/"main.lock").exists()


_UNCOMPILED = """import importlib.util, pathlib, sys
d = pathlib.Path(importlib.util.find_spec(sys.argv[1]).origin).parent
print(sum(not pathlib.Path(importlib.util.cache_from_source(str(f))).exists() for f in d.rglob('*.py')), len(list(d.rglob('*.py'))))"""

def test_the_environments_are_byte_compiled_at_install():
    """Every module of transformers in the environment running the tests (uv.lock's: `compile-bytecode` in pyproject.toml)
    and of olah in the local hub's (built by `hala env build`), imported or not, has its bytecode on disk, as pip leaves
    it: uv otherwise compiles nothing, and where PYTHONDONTWRITEBYTECODE is set (CI machines, containers) every process
    compiled its imports afresh (CI took 52.6 minutes; byte-compiled, 36.2)."""
    import subprocess, sys
    assert hala("env", "build", "hub").returncode == 0
    for py, pkg in ((sys.executable, "transformers"), (ROOT/".venv-hub"/"bin"/"python", "olah")):
        missing, total = map(int, subprocess.run([str(py), "-c", _UNCOMPILED, pkg], capture_output=True, text=True, check=True).stdout.split())
        assert total > 40 and missing == 0, f"{py}: {missing} of {total} modules of {pkg} have no bytecode"

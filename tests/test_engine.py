"The generation engine's contract: a job killed with SIGKILL and restarted gives exactly the uninterrupted results."
import json, os, random, signal, subprocess, sys, time

import pytest

from hala.core import HalaError
from hala.jobs import Job, run_job
from hala.engine import TransformersBackend

WORKER = r'''
import json, sys
from pathlib import Path
from hala.jobs import run_job
from hala.engine import TransformersBackend
from hala.textgen import tiny_lm
model, tok = tiny_lm()
reqs = [{"id": f"r{i}", "messages": [{"role": "user", "content": f"Egypt {i} " * (i % 7 + 1)}], "max_new_tokens": 12}
        for i in range(int(sys.argv[3]))]
reqs[5] = {"id": "r5", "prompt": ""}  # a bad request ends as a failure with its reason
res = run_job(reqs, Path(sys.argv[1]), TransformersBackend(model, tok, batch_size=8), shard_size=8, progress=False)
Path(sys.argv[2]).write_text(json.dumps(res, sort_keys=True, ensure_ascii=False))
'''

N = 480

def _start(job, out):
    return subprocess.Popen([sys.executable, "-c", WORKER, str(job), str(out), str(N)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)

def _done_shards(job):
    return len(list((job/"results").glob("shard-*.jsonl"))) if (job/"results").exists() else 0

def test_sigkilled_job_resumes_to_identical_results(tmp_path):
    p = _start(tmp_path/"a", tmp_path/"a.json"); assert p.wait(600) == 0, p.stderr.read()
    expected = json.loads((tmp_path/"a.json").read_text())
    job, rng, n_shards = tmp_path/"b", random.Random(0), N // 8
    kills = 0
    for target in sorted(rng.sample(range(2, n_shards - 2), 3)):  # kill at three random points
        p = _start(job, tmp_path/"b.json")
        while _done_shards(job) < target and p.poll() is None: time.sleep(0.005)
        assert p.poll() is None, "the job finished before it could be killed"
        os.kill(p.pid, signal.SIGKILL); p.wait(); kills += 1
        assert 0 < _done_shards(job) < n_shards
    p = _start(job, tmp_path/"b.json"); assert p.wait(600) == 0, p.stderr.read()
    got = json.loads((tmp_path/"b.json").read_text())
    assert kills == 3 and got == expected
    assert sorted(got) == sorted(f"r{i}" for i in range(N))
    assert got["r5"] == {"id": "r5", "error": "bad request: prompt is not a non-empty string"}
    lines = [json.loads(l)["id"] for f in sorted((job/"results").glob("*.jsonl")) for l in f.read_text().splitlines()]
    assert len(lines) == len(set(lines)) == N  # no duplicate, no missing id on disk

def test_duplicate_ids_and_foreign_job_folders_are_refused(tmp_path):
    with pytest.raises(HalaError, match="duplicate request ids: a"):
        Job(tmp_path/"j", [{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}])
    Job(tmp_path/"j2", [{"id": "a", "prompt": "x"}])
    with pytest.raises(HalaError, match="holds another job"): Job(tmp_path/"j2", [{"id": "b", "prompt": "x"}])

def test_malformed_requests_become_failures_with_reasons(tmp_path):
    from hala.textgen import tiny_lm
    model, tok = tiny_lm()
    bad = [{"id": "m", "messages": "hi"}, {"id": "n", "prompt": "x", "temperature": -1}, {"id": "o", "prompt": "x", "extra": 1},
           {"id": "p", "prompt": "x", "max_new_tokens": 10**6}, "not a dict", {"prompt": "x"}]
    res = run_job(bad, tmp_path/"j", TransformersBackend(model, tok), shard_size=4, progress=False)
    assert len(res) == len(bad) and all("error" in r for r in res.values())
    assert res["n"]["error"] == "bad request: temperature must be a non-negative number"
    assert "exceeds the context" in res["p"]["error"]

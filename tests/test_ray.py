"""Generation through Ray Data (`engine.backend: ray`) on a local Ray head of 2 CPUs: the plain vLLM path's results exactly,
and a driver killed with SIGKILL mid-job, rerun, ends with them too. The GPU path's configuration is checked as objects."""
import json, os, re, shutil, signal, socket, subprocess, tempfile, time

import pytest

from conftest import ROOT, vllm_python
from hala.core import read_jsonl
from hala.jobs import Job, encode_requests, engine_runs, run_job
from hala.engine import RayBackend, VLLMBackend
from hala.textgen import translation_messages

VLLM_PY, RAY = ROOT/".venv-vllm"/"bin"/"python", ROOT/".venv-vllm"/"bin"/"ray"
ENV = {"VLLM_CPU_KVCACHE_SPACE": "1"}


def _need_vllm_env():
    vllm_python()  # built from its lock (which installs ray[data]) when missing
    assert RAY.exists(), f"no ray in {RAY.parent}: its lock (data/env/vllm-*.lock) installs ray[data]"


@pytest.fixture(scope="module")
def ray_head():
    "A Ray head of 2 CPUs with a capped object store, in a temporary folder of its own; its processes are killed by process group."
    _need_vllm_env()
    tmp = tempfile.mkdtemp(prefix="hray", dir="/tmp")  # short: Ray's socket paths must stay under 107 characters
    s = socket.socket(); s.bind(("", 0)); port = s.getsockname()[1]; s.close()
    log = open(os.path.join(tmp, "head.log"), "w")
    p = subprocess.Popen([str(RAY), "start", "--head", "--block", "--port", str(port), "--num-cpus", "2", "--object-store-memory", str(200 * 2**20),
                          "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", os.path.join(tmp, "t")],
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                         env={**os.environ, "RAY_AUTH_MODE": "disabled"})  # a head for this test alone: no token to hand out (a cluster keeps Ray's default, README)
    try:
        address, t0 = None, time.time()
        while address is None and time.time() - t0 < 120 and p.poll() is None:
            m = re.search(r"ray start --address='([^']+)'", open(os.path.join(tmp, "head.log")).read())
            address = m.group(1) if m else None
            time.sleep(0.5)
        assert address, open(os.path.join(tmp, "head.log")).read()[-2000:]
        yield address
    finally:
        try: os.killpg(p.pid, signal.SIGKILL)  # the head and everything it started share its process group
        except ProcessLookupError: pass
        p.wait(30); log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_ray_matches_plain_vllm_and_a_killed_driver_resumes_to_the_same_results(toy_run, ray_head, tmp_path):
    runs = toy_run[1]
    teacher = str(runs/"01_assets"/"released"/"bf16"/"teacher")
    pairs = read_jsonl(runs/"01_assets"/"data"/"parallel"/"test.jsonl")[:64]
    # shard 0 is short; every later shard holds rows that run to 320 tokens (the longest prompt here is 132 of the 512), in Ray batches of one shard:
    # the engine answers the shards two by two, the first pair some 2.5 s before the last on 2 cores, time enough for the kill to land between them
    reqs = [{"id": str(i), "messages": translation_messages(p["en"], "Translate from English to Arabic: {text}"),
             "max_new_tokens": 4 if i < 8 else 320 if i % 4 else 24, "ignore_eos": i >= 8 and i % 4 != 0} for i, p in enumerate(pairs)]
    plain = run_job(reqs, tmp_path/"vllm", VLLMBackend(teacher, VLLM_PY, "float32", 1, 512, 0.2, ENV, 8, max_num_batched_tokens=4096), shard_size=8, progress=False)
    ray = RayBackend(teacher, VLLM_PY, "float32", 1, 512, 0.2, ENV, 8, 1, "cpu", ray_head, block_rows=8,  # a Ray batch is a shard
                     max_num_batched_tokens=4096)  # one engine setting for both: vLLM defaults it differently for LLM and the async engine
    job = Job(tmp_path/"ray", reqs, 8, encode=lambda part: encode_requests(ray.tokenizer, part))  # what run_job writes
    p = subprocess.Popen(ray.command(job), stdout=open(tmp_path/"driver.log", "w"), stderr=subprocess.STDOUT, env={**os.environ, **ENV})
    t0 = time.time()
    while not _blocks(job.dir) and p.poll() is None and time.time() - t0 < 300: time.sleep(0.02)  # the first block on disk (Ray's workers write it)
    assert p.poll() is None, "the driver finished before it could be killed: " + (tmp_path/"driver.log").read_text()[-1500:]
    os.kill(p.pid, signal.SIGKILL); p.wait()
    before, t1 = _answered(job.dir), time.time()
    while time.time() - t1 < 3:  # the job's engine outlives its driver until Ray stops the job: a block in flight may still land
        time.sleep(0.5)
        if len(now := _answered(job.dir)) != len(before): before, t1 = now, time.time()
    assert 0 < len(before) < len(reqs), f"{len(before)} of {len(reqs)} requests answered at the kill"  # killed mid-job: some answered, some not
    got = run_job(reqs, tmp_path/"ray", ray, shard_size=8, progress=False)  # rerun: the killed run's blocks, the engine for the rest
    keys = ("text", "token_ids", "finish", "new_tokens", "prompt_tokens")
    assert {k: {x: v[x] for x in keys} for k, v in got.items()} == {k: {x: v[x] for x in keys} for k, v in plain.items()}
    lines = [json.loads(l)["id"] for f in sorted((tmp_path/"ray"/"results").glob("*.jsonl")) for l in f.read_text().splitlines()]
    assert sorted(lines) == sorted(r["id"] for r in reqs)  # no id lost or written twice
    runs_ = engine_runs(tmp_path/"ray")
    assert [r["engine"] for r in runs_] == ["ray"] and runs_[0]["startups"] == 1  # the killed run logged nothing; the rerun: one replica, one engine
    assert runs_[0]["requests"] == len(reqs) - len(before)  # ... for exactly what the killed run left unanswered
    assert runs_[0]["engine_s"] > 0 and engine_runs(tmp_path/"vllm")[0]["engine_s"] > 0  # the engine's timestamps reach both paths' logs (the benchmark's window)
    assert all(got[r["id"]]["finish"] == "length" and got[r["id"]]["new_tokens"] == r["max_new_tokens"] for r in reqs if r["ignore_eos"])  # ran to the cap


def test_the_gpu_configuration_asks_ray_for_replicas_of_tensor_parallel_gpus():
    _need_vllm_env()
    code = ("from hala.engine import ray_processor_config as c; import json; "
            "g = c('CohereLabs/command-a-translate-08-2025', 'bfloat16', 8192, 0.9, 256, tensor_parallel=8, replicas=2, batch_size=64, max_num_batched_tokens=16384); "
            "k = c('m', 'float32', 512, 0.2, 16, device='cpu'); "
            "print(json.dumps([g.concurrency, g.engine_kwargs['tensor_parallel_size'], g.placement_group_config, g.batch_size, "
            "g.log_engine_metrics, k.placement_group_config, g.chat_template_stage, g.tokenize_stage, g.engine_kwargs.get('max_num_batched_tokens'), "
            "'max_num_batched_tokens' in k.engine_kwargs]))")
    r = subprocess.run([str(VLLM_PY), "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    conc, tp, pg, bs, metrics, cpu_pg, chat, tok, mnbt, cpu_mnbt = json.loads(r.stdout.strip().splitlines()[-1])
    assert (conc, tp, bs, metrics, mnbt, cpu_mnbt) == (2, 8, 64, False, 16384, False)  # a step's token budget only when set
    used = lambda bundles: [{k: v for k, v in b.items() if v} for b in bundles]  # Ray writes the resources a bundle lacks as 0
    assert used(pg["bundles"]) == [{"GPU": 1, "CPU": 1}] * 8 and pg["strategy"] == "STRICT_PACK"  # one engine's 8 GPUs on one machine
    assert used(cpu_pg["bundles"]) == [{"CPU": 1}] and chat in (False, {"enabled": False}) and tok in (False, {"enabled": False})


def test_backend_for_spreads_ray_engines_over_the_profile_s_gpus(monkeypatch):
    from hala.core import load_profile
    from hala import engine
    cfg = load_profile("paper")
    monkeypatch.setattr(engine, "torch_device", lambda c: "cuda")
    monkeypatch.setattr(type(cfg), "load_ref", lambda self, ref, repo_type="models": ref)
    if not VLLM_PY.exists(): monkeypatch.setattr(engine._WorkerBackend, "__init__", lambda self, m, py, args, env=None, tok=None: setattr(self, "args", args))
    b = engine.backend_for(cfg, cfg.models.teacher, tensor_parallel=8)
    assert isinstance(b, RayBackend) and b.args[b.args.index("--replicas") + 1] == "1"  # 8 GPUs / 8 per engine
    b = engine.backend_for(cfg, cfg.models.translator_base)
    assert b.args[b.args.index("--replicas") + 1] == "8" and b.args[b.args.index("--tensor-parallel") + 1] == "1"
    for b in (b, engine.backend_for(cfg, cfg.models.translator_base, backend="vllm")):  # both vLLM paths run the profile's step budget
        assert b.args[b.args.index("--max-num-batched-tokens") + 1] == str(cfg.engine.max_num_batched_tokens) == "16384"


def test_the_lfm2_stand_ins_carry_the_config_fields_vllm_reads(toy_run):
    "vLLM's LFM2 reads block_dim and conv_dim from config.json (LFM2's own config.json has them); a stand-in without them cannot load there."
    for role in ("lfm2-350M", "lfm2-700M", "lfm2-1.2B"):
        c = json.loads((toy_run[1]/"01_assets"/"models"/role/"config.json").read_text())
        assert c["block_dim"] == c["conv_dim"] == c["hidden_size"], (role, {k: c.get(k) for k in ("block_dim", "conv_dim", "hidden_size")})


def _blocks(job_dir) -> list:
    "Block files on disk (a finished shard's may linger a moment until its parts folder goes)."
    return list((job_dir/"parts").glob("shard-*/block-*.jsonl"))


def _answered(job_dir) -> list[str]:
    "Ids answered on disk: in finished shards' results and in the blocks written for shards not yet finished."
    done = {f.stem for f in (job_dir/"results").glob("shard-*.jsonl")}
    files = list((job_dir/"results").glob("shard-*.jsonl")) + [f for f in _blocks(job_dir) if f.parent.name not in done]
    out = []
    for f in files:
        try: out += [json.loads(l)["id"] for l in f.read_text().splitlines()]
        except FileNotFoundError: pass  # a shard finished and its parts went between the listing and the read
    return out


def test_a_driver_killed_with_blocks_written_never_generates_an_answered_request_again(ray_head, tmp_path):
    "Blocks smaller than shards (16 rows, shards of 64), the driver killed once several blocks are on disk: the rerun generates exactly the requests not yet answered, and every request ends with the one right result."
    from hala.textgen import decode_text, tiny_lm
    tok = tiny_lm()[1]; tok.save_pretrained(tmp_path/"tok")
    reqs = [{"id": f"q{i}", "prompt_ids": [(i * 7 + k) % 200 + 3 for k in range(12)], "max_new_tokens": 6, "ignore_eos": True} for i in range(192)]
    job = Job(tmp_path/"job", reqs, 64)
    cmd = [str(VLLM_PY), "-c", "import sys; from hala.engine import ray_driver_main; sys.exit(ray_driver_main(sys.argv[1:]))", str(job.dir),
           "--model", str(tmp_path/"tok"), "--engine", "fake", "--fake-seconds-per-row", "0.03", "--device", "cpu", "--address", ray_head,
           "--max-model-len", "64", "--batch-size", "16"]
    p = subprocess.Popen(cmd, stdout=open(tmp_path/"driver.log", "w"), stderr=subprocess.STDOUT, env={**os.environ, **ENV})
    t0 = time.time()
    partial = lambda: [f for f in _blocks(job.dir) if not (job.dir/"results"/f"{f.parent.name}.jsonl").exists()]
    while not (len(_answered(job.dir)) >= 48 and partial()) and p.poll() is None and time.time() - t0 < 300: time.sleep(0.01)  # three blocks or more, one shard part-way
    assert p.poll() is None, "the driver finished before it could be killed: " + (tmp_path/"driver.log").read_text()[-1500:]
    os.kill(p.pid, signal.SIGKILL); p.wait()
    before, t1 = _answered(job.dir), time.time()
    while time.time() - t1 < 3:  # Ray's workers write the blocks: one in flight at the kill may still land before Ray stops the job's tasks
        time.sleep(0.5)
        if len(now := _answered(job.dir)) != len(before): before, t1 = now, time.time()
    assert 48 <= len(before) < 192 and len(before) == len(set(before)), len(before)
    assert partial(), "no shard was part-way at the kill"  # what this test is about: answers on disk in blocks, their shard unfinished
    r = subprocess.run(cmd[:cmd.index("--fake-seconds-per-row")] + cmd[cmd.index("--device"):], capture_output=True, text=True, env={**os.environ, **ENV}, timeout=600)
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:]
    rec = engine_runs(job.dir)[-1]
    assert len(engine_runs(job.dir)) == 1 and rec["requests"] == 192 - len(before), (rec, len(before))  # the killed run logged nothing; the rerun generated only the rest
    got = job.collect()
    assert not (job.dir/"parts").exists() or not any((job.dir/"parts").iterdir())  # every shard finished, its parts gone
    for q in reqs:
        ids = (q["prompt_ids"] * 2)[:6]
        assert got[q["id"]] == {"id": q["id"], "text": decode_text(tok, ids), "token_ids": ids, "prompt_tokens": 12, "new_tokens": 6, "finish": "length"}

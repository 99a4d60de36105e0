"Stage 02 on the toy run: FP8 halves the Linear weights, keeps quality, and the vLLM worker agrees with transformers."
import json, os

from conftest import vllm_python, ROOT
from hala.core import load_profile
from hala.jobs import run_job
from hala.engine import TransformersBackend, VLLMBackend
from hala.textgen import translation_messages

def test_fp8_tables_and_claims(toy_run):
    res = toy_run[0]
    for t in ("teacher_fp8_size", "teacher_fp8_parity", "teacher_fp8_logits"):
        assert (res/"tables"/f"{t}.csv").exists(), t
    assert (res/"timings"/"teacher_fp8_throughput.csv").exists()  # wall-clock figures: not compared with results/toy
    assert (res/"figures"/"teacher_fp8_logits.png").exists() and (res/"timings"/"teacher_fp8_throughput.png").exists()
    m = json.loads((res/"metrics"/"teacher_fp8.json").read_text())
    assert round(m["linear_weight_ratio"], 2) == 0.5
    assert abs(m["fp8_minus_bf16_chrf"]) <= 1.0, m["parity"]
    assert not m["significant_chrf_drop"] and m["parity"]["FP8"]["p_chrf"] is not None
    assert m["logits"]["top1_agreement"] > 0.9, m["logits"]
    import pandas as pd
    tp = pd.read_csv(res/"timings"/"teacher_fp8_throughput.csv")
    assert len(tp) == 2 * len(load_profile("toy").fp8.throughput_batch_sizes)
    assert tp.groupby("teacher")["start-up s"].nunique().to_dict() == {"BF16": 1, "FP8": 1}  # each teacher loaded once for every point
    # stage 04's teacher rows are stage 02's parity jobs (same requests): no teacher is loaded again there
    assert not list((toy_run[1]/"04_translator"/"jobs").glob("eval-teacher-*"))
    q = pd.read_csv(res/"tables"/"translator_quality.csv").set_index("system")
    par = pd.read_csv(res/"tables"/"teacher_fp8_parity.csv").set_index("system")
    assert [tuple(q.loc[f"teacher {t}", ["BLEU", "chrF++"]]) for t in ("BF16", "FP8")] == [tuple(par.loc[t, ["BLEU", "chrF++"]]) for t in ("BF16", "FP8")]

def test_paper_profile_fp8_settings():
    p = load_profile("paper")
    assert (p.engine.backend, p.fp8.tensor_parallel, p.fp8.scheme) == ("ray", 8, "FP8_DYNAMIC")
    assert p.models.teacher_fp8_reference == "hammh0a/command-a-translate-FP8-Dynamic"

VLLM_PY = ROOT/".venv-vllm"/"bin"/"python"

def test_vllm_worker_matches_transformers_on_the_toy_teacher(toy_run, tmp_path):
    vllm_python()  # built from its lock when missing
    from hala.core import read_jsonl
    runs, roots = toy_run[1], toy_run[2]
    cfg = load_profile("toy", roots[1::2])  # the toy run's folders
    pairs = read_jsonl(runs/"01_assets"/"data"/"parallel"/"test.jsonl")[:64]  # the held-out pairs, read from the run folder
    reqs = [{"id": str(i), "messages": translation_messages(p["en"], cfg.prompts.teacher_translate), "max_new_tokens": 48}
            for i, p in enumerate(pairs)]
    from hala.hub import start_hub
    endpoint = start_hub(cfg)[0]  # the toy run's local hub (serving already)
    hub_env = {"HF_ENDPOINT": endpoint, "HF_HUB_OFFLINE": "0", "HF_HUB_CACHE": str(tmp_path/"hub-cache"), "VLLM_CPU_KVCACHE_SPACE": "1"}
    rates = {}
    for name, vllm_ref, path in (  # the BF16 teacher by its hub id, through the local hub, as a cluster loads it; transformers reads the same weights
            ("teacher-bf16", cfg.models.teacher, runs/"01_assets"/"released"/"bf16"/"teacher"),
            ("teacher-fp8", str(runs/"02_teacher_fp8"/"teacher-fp8"), runs/"02_teacher_fp8"/"teacher-fp8")):
        v = run_job(reqs, tmp_path/name/"vllm", VLLMBackend(vllm_ref, VLLM_PY, "bfloat16", 1, 512, 0.2, hub_env, tokenizer=path),  # encoded here from the same files
                    shard_size=16, progress=False)
        h = run_job(reqs, tmp_path/name/"hf", TransformersBackend(path, dtype="bfloat16"), shard_size=16, progress=False)
        assert all("error" not in r and r["new_tokens"] > 0 for r in v.values()), [r for r in v.values() if "error" in r][:2]
        rates[name] = sum(v[k]["text"] == h[k]["text"] for k in v) / len(v)
    print("identical greedy outputs, vLLM vs transformers:", rates)
    assert (tmp_path/"hub-cache"/"models--CohereLabs--command-a-translate-08-2025").is_dir()  # vLLM fetched the teacher from the hub
    # measured: BF16 58/64, FP8 42/64 (vLLM's CPU FP8 kernels round differently from compressed-tensors' simulation)
    assert rates["teacher-bf16"] >= 0.8 and rates["teacher-fp8"] >= 0.5, rates

def test_logit_comparison_shards_each_model_over_the_gpus(monkeypatch, tmp_path):
    "The 111B teacher is 222 GB in BF16: on GPUs each model is loaded with device_map='auto', never moved whole to one device."
    import transformers
    from hala.textgen import tiny_lm
    from hala.teacher import logit_comparison
    m, t = tiny_lm(); m.save_pretrained(tmp_path); t.save_pretrained(tmp_path)
    calls, real = [], transformers.AutoModelForCausalLM.from_pretrained
    def spy(path, **kw):
        calls.append(kw.get("device_map"))
        return real(path, **{k: v for k, v in kw.items() if k != "device_map"})  # this machine has no GPU to spread over
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", spy)
    r = logit_comparison(str(tmp_path), str(tmp_path), ["hello there", "a b c"], ["world", "d e"], device="cuda")
    assert calls == ["auto", "auto"] and r["mean_kl"] == 0 and r["top1_agreement"] == 1 and r["tokens"] == len(r["per_token_kl"])

def test_quantization_runs_in_a_process_of_its_own(tmp_path):
    "vLLM will not start while the notebook's process holds GPU memory: llmcompressor's oneshot runs in a spawned process."
    from hala.teacher import quantize_fp8
    from hala.textgen import tiny_lm
    m, t = tiny_lm(); m.save_pretrained(tmp_path/"bf16"); t.save_pretrained(tmp_path/"bf16")
    info = quantize_fp8(str(tmp_path/"bf16"), tmp_path/"fp8")
    assert info["pid"] != os.getpid() and (tmp_path/"fp8"/"model.safetensors").exists()
    assert json.loads((tmp_path/"fp8"/"config.json").read_text())["quantization_config"]["quant_method"] == "compressed-tensors"

def test_vllm_parity_and_throughput_start_one_engine(toy_run, tmp_path):
    """Stage 02 on vLLM: a teacher's parity job and its throughput points on one engine start-up (issue: the teacher started once
    for parity and again for timing), tokens/s from the engine's window with start-up apart (an engine per point timed loading);
    with the job already done, one engine starts for the points alone (`vllm_throughput_main`)."""
    vllm_python()  # built from its lock when missing
    from hala.jobs import engine_runs
    from hala.engine import run_job_timed
    path = toy_run[1]/"01_assets"/"released"/"bf16"/"teacher"
    cfg = load_profile("toy", toy_run[2][1::2])
    msgs = lambda i: translation_messages(f"The sea is blue {i}.", cfg.prompts.teacher_translate)
    job = [{"id": f"p{i}", "messages": msgs(i), "max_new_tokens": 8} for i in range(6)]
    timing = [{"id": str(i), "messages": msgs(i), "max_new_tokens": 12, "ignore_eos": True} for i in range(8)]
    be = lambda: VLLMBackend(str(path), VLLM_PY, "bfloat16", 1, 512, 0.2, {"VLLM_CPU_KVCACHE_SPACE": "1"}, batch_size=4)
    res, r = run_job_timed(job, tmp_path/"parity", be(), 4, timing, [1, 4], tmp_path/"t1", progress=False)
    assert sorted(res) == sorted(q["id"] for q in job) and all("error" not in x and x["new_tokens"] > 0 for x in res.values()), res
    assert [(p["batch size"], p["tokens"]) for p in r["points"]] == [(1, 96), (4, 96)], r
    runs = engine_runs(tmp_path)
    assert [(x["engine"], x["startups"]) for x in runs] == [("vllm", 1), ("vllm", 0)], runs  # parity's start-up; the points on its engine
    assert r["startup_s"] > 0 and all(0 < p["seconds"] for p in r["points"]), r
    assert sum(p["seconds"] for p in r["points"]) <= runs[1]["generate_s"], (r, runs)  # the engine's window, inside the worker's loop
    res2, r2 = run_job_timed(job, tmp_path/"parity", be(), 4, timing, [2], tmp_path/"t2", progress=False)  # the job is done: points only
    assert res2 == res and [(p["batch size"], p["tokens"]) for p in r2["points"]] == [(2, 96)], r2
    assert sum(x["startups"] for x in engine_runs(tmp_path)) == 2 and r2["startup_s"] > 0

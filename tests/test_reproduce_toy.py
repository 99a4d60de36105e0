"""The toy reproduction as a user runs it: `hala reproduce --profile toy` executes every stage, a second run skips,
`--force` reruns, a failing stage names itself and its cell, and two runs with the same seed write identical metrics."""
import json, re, time
from pathlib import Path


from conftest import hala
from hala.core import load_profile, stage_names, stage_variants

def test_every_stage_ran_and_wrote_its_results(toy_run):
    res, runs, _, r = toy_run
    cfg = load_profile("toy")
    for s in stage_names():
        for v in stage_variants(cfg, s):  # a fan-out stage (06_sft) has an executed copy and a manifest per size
            tag, man = (s, "manifest.json") if v is None else (f"{s}-{v}", f"manifest-{v}.json")
            assert (res/"notebooks"/f"{tag}.ipynb").exists() and (runs/s/man).exists(), tag
        assert f"{s}: done in" in r.stdout or re.search(rf"{s} \([^)]+\): done in", r.stdout), s
    for t in ("profile", "assets_sources", "assets_models", "assets_teacher_quality", "assets_loads"):
        assert (res/"tables"/f"{t}.csv").exists() and (res/"tables"/f"{t}.md").read_text().count("profile: toy") == 1, t
    assert (res/"figures"/"assets_training_loss.png").stat().st_size > 10_000
    for role in ("teacher", "judge", "lfm2-350M", "lfm2-700M", "lfm2-1.2B", "gemma2-9B"):
        assert (runs/"01_assets"/"models"/role/"config.json").exists(), role

def test_toy_teacher_beats_an_untrained_model(toy_run):
    q = json.loads((toy_run[0]/"metrics"/"assets.json").read_text())["teacher_quality"]
    trained, untrained = q["trained"], q["untrained"]
    assert trained["chrf++"] > untrained["chrf++"] + 5, q

def test_second_run_skips_every_stage_and_force_reruns(toy_run):
    res, runs, roots, _ = toy_run
    t0 = time.time()
    r = hala("reproduce", "--profile", "toy", "--no-progress", *roots)
    secs = time.time() - t0
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("up to date, skipped") == len(stage_names()), r.stdout
    assert secs < 30, f"a run with nothing to do took {secs:.0f}s"
    r = hala("reproduce", "--profile", "toy", "--no-progress", "--force", "--stages", "00", *roots)
    assert r.returncode == 0 and "00_core: done in" in r.stdout, r.stdout + r.stderr
    r = hala("stages", "--profile", "toy", *roots)
    assert all(l.split()[1] == "done" for l in r.stdout.strip().splitlines()), r.stdout

def test_a_failing_stage_names_itself_and_its_cell(roots):
    r = hala("reproduce", "--profile", "toy", "--no-progress", "--stages", "01", *roots,
             "--set", "toy_world.instructions.folders=[no-such-folder]")
    assert r.returncode == 1
    msg = r.stderr.strip().splitlines()[-1]
    assert msg.startswith("hala: stage 01_assets failed in cell") and "no folder 'no-such-folder'" in msg, r.stderr

SMALL = ["toy_world.teacher_train.steps=40", "toy_world.pretrain.steps=10", "toy_world.instructions.max_records=200",
         "toy_world.tokenizer.max_train_texts=4000", "toy_world.eval_max_new_tokens=16", "fp8.parity_pairs=60",
         "fp8.parity_max_new_tokens=16", "fp8.throughput_requests=16", "fp8.throughput_batch_sizes=[4]", "fp8.bootstrap_samples=200",
         "datasets.supervision_en.limit=40", "datasets.parallel_candidates.limit=200", "distill.judge_train.max_steps=10",
         "translator.max_steps=10", "translator.eval_max_new_tokens=8",
         "corpus.max_new_tokens=16", "hala.sizes=[350M]", "hala.train.max_steps=4", "hala.packing_bench_steps=2",
         "merge.sweep=[0.0, 1.0]", "releases.sft_max_steps=4", "releases.audit_records=200"]

def test_same_seed_gives_identical_committed_results(roots):
    "Everything of results/<profile>/ that is committed (figures, tables, metrics, items, the README page) comes out byte for byte the same; only notebooks, timings and the site may differ."
    args = ["reproduce", "--profile", "toy", "--no-progress", "--force", *roots]
    for s in SMALL: args += ["--set", s]
    res = Path(roots[3].split("=", 1)[1])/"toy"
    committed = lambda p: p.is_file() and p.relative_to(res).parts[0] not in ("notebooks", "timings", "site")
    snaps = []
    for _ in range(2):
        r = hala(*args); assert r.returncode == 0, r.stdout + r.stderr
        snaps.append({str(p.relative_to(res)): p.read_bytes() for p in sorted(res.rglob("*")) if committed(p)})
    kinds = {k.split("/")[0] for k in snaps[0]}
    assert {"figures", "tables", "metrics", "README.md"} <= kinds, kinds
    assert [k for k in snaps[0] if snaps[0][k] != snaps[1].get(k)] == [] and set(snaps[0]) == set(snaps[1])

def test_paper_profile_assets_name_the_hub_ids_without_downloading(roots):
    r = hala("reproduce", "--profile", "paper", "--no-progress", "--stages", "00", "01", *roots[:4],
             env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    loads = (Path(roots[3].split("=", 1)[1])/"paper"/"tables"/"assets_loads.csv").read_text()
    for hub_id in ("CohereLabs/command-a-translate-08-2025", "Qwen/Qwen2.5-3B-Instruct", "LiquidAI/LFM2-350M",
                   "QCRI/Fanar-1-9B-Instruct", "Open-Orca/OpenOrca", "Helsinki-NLP/opus-100"):
        assert hub_id in loads, hub_id

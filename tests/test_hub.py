"""The local hub: stand-ins published as git repositories and served like the Hub, loaded with the calls a cluster makes."""
import json, os, subprocess, sys, urllib.error, urllib.request

import pytest

from conftest import ROOT, hala
from hala.core import HalaError, load_profile

@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    "A local hub over a temporary run folder with a model, a parquet dataset with a config, and a raw-JSON dataset."
    from hala.hub import mirror_dir, publish_dataset, publish_model, start_hub, stop_hub, hub_status
    from hala.textgen import tiny_lm
    base = tmp_path_factory.mktemp("hub")
    cfg = load_profile("toy", [f"run_root={base}"])
    m, t = tiny_lm(); m.save_pretrained(base/"tiny"); t.save_pretrained(base/"tiny")
    root = mirror_dir(cfg)
    publish_model(base/"tiny", "LiquidAI/LFM2-1.2B", root, "test")
    publish_dataset("Helsinki-NLP/opus-100", root, "test", {"ar-en": {"train": [{"translation": {"ar": "مصر", "en": "Egypt"}}] * 3,
                                                                        "test": [{"translation": {"ar": "عمان", "en": "Oman"}}]}})
    publish_dataset("GAIR/ReAlign-Alpaca", root, "test", files={"realign_alpaca.json": [
        {"id": 0, "items": [{"from": "human", "value": "Hi", "category": "default"}, {"from": "gpt", "value": "Hello"}]}]})
    endpoint, started = start_hub(cfg)
    assert started and start_hub(cfg) == (endpoint, False)  # a second call finds it running
    yield cfg, endpoint, base
    pid = hub_status(cfg)["pid"]
    assert stop_hub(cfg) and hub_status(cfg) is None
    with pytest.raises(ProcessLookupError): os.kill(pid, 0)

def test_models_and_datasets_load_through_the_local_hub_by_their_hub_ids(hub):
    cfg, endpoint, base = hub
    code = """
from transformers import AutoModelForCausalLM, AutoTokenizer
from datasets import load_dataset
import json
tok = AutoTokenizer.from_pretrained("LiquidAI/LFM2-1.2B"); m = AutoModelForCausalLM.from_pretrained("LiquidAI/LFM2-1.2B")
opus = load_dataset("Helsinki-NLP/opus-100", "ar-en")
ra = load_dataset("GAIR/ReAlign-Alpaca", split="train")
print(json.dumps({"arch": type(m).__name__, "splits": {k: len(v) for k, v in opus.items()}, "row": opus["test"][0],
                  "realign": ra[0]["items"][1]["value"], "template": bool(tok.chat_template)}))
"""
    env = {**os.environ, "HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(base/"cache"), "HF_DATASETS_CACHE": str(base/"dcache"),
           "HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out == {"arch": "LlamaForCausalLM", "splits": {"train": 3, "test": 1}, "row": {"translation": {"ar": "عمان", "en": "Oman"}},
                   "realign": "Hello", "template": True}

def test_the_hub_answers_missing_entries_and_bare_ids_as_the_hub_does(hub):
    _, endpoint, _ = hub
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{endpoint}/LiquidAI/LFM2-1.2B/resolve/main/no_such_file.json")
    assert e.value.code == 404 and e.value.headers["x-error-code"] == "EntryNotFound"
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{endpoint}/api/models/LiquidAI/LFM2-1.2B/tree/main/additional_chat_templates")
    assert e.value.code == 404
    meta = json.loads(urllib.request.urlopen(f"{endpoint}/api/models/LiquidAI/LFM2-1.2B").read())  # no revision: vLLM asks this
    assert meta["id"] == "LiquidAI/LFM2-1.2B" and len(meta["sha"]) == 40

def test_a_run_that_is_not_the_toy_refuses_a_stand_in(hub):
    from hala.hub import mirror_dir
    from hala.core import check_not_stand_in
    cfg, _, base = hub
    d = str(mirror_dir(cfg)/"models"/"LiquidAI"/"LFM2-1.2B")
    assert check_not_stand_in(cfg, d) == d  # the toy runs on stand-ins
    with pytest.raises(HalaError, match="is a local stand-in of the toy world"):
        check_not_stand_in(load_profile("paper"), d)
    assert check_not_stand_in(load_profile("paper"), str(base/"tiny")) == str(base/"tiny")  # a folder without the marker

def test_mt_eval_pairs_human_translated_arabic_mmlu_with_cais_mmlu_and_catches_a_misaligned_subject(hub):
    "The Arabic MMLU holds no English: its rows are paired with cais/mmlu by subject (config) and row, and checked."
    from hala.hub import mirror_dir, publish_dataset
    cfg, endpoint, base = hub
    ar = lambda n, k: [{"question": f"سؤال {k}-{i}", "choices": ["أ", "ب", "ج", "د"], "answer": (i * 7 + k) % 4} for i in range(n)]
    en = lambda n, k: [{"question": f"Question {k}-{i}", "subject": "s", "choices": list("abcd"), "answer": (i * 7 + k) % 4} for i in range(n)]
    publish_dataset("MBZUAI/human_translated_arabic_mmlu", mirror_dir(cfg), "test", {"anatomy": {"test": ar(8, 1)}, "virology": {"test": ar(8, 2)}})
    publish_dataset("cais/mmlu", mirror_dir(cfg), "test", {"anatomy": {"test": en(8, 1)}, "virology": {"test": en(8, 2)}})
    code = """
import json, sys
from hala.core import HalaError, load_profile, mt_eval_pairs
from hala.hub import setup_env
cfg = setup_env(load_profile("toy", sys.argv[1:]))
try: print(json.dumps([(p["id"], p["en"], p["ar"]) for p in mt_eval_pairs(cfg)]))
except HalaError as e: print(json.dumps({"error": str(e)}))
"""
    sets = [f"run_root={base}", "hub_offline=false", "datasets.mt_eval={id: MBZUAI/human_translated_arabic_mmlu, config: null, split: test, limit: null}",
            "datasets.mt_eval_en={id: cais/mmlu, config: null, split: test, limit: null}"]
    run = lambda: json.loads(subprocess.run([sys.executable, "-c", code, *sets], capture_output=True, text=True, timeout=300,
                                            env={**os.environ, "HF_HUB_OFFLINE": "0"}).stdout.strip().splitlines()[-1])
    pairs = run()
    assert sorted(p[0] for p in pairs) == [f"{s}-{i}" for s in ("anatomy", "virology") for i in range(8)]
    assert all([en, ar] == [f"Question {k}-{i}", f"سؤال {k}-{i}"] for (pid, en, ar) in pairs for s, i in [pid.split("-")] for k in [1 + (s == "virology")])
    assert sorted(p[0].split("-")[0] for p in pairs[:8]) == ["anatomy"] * 4 + ["virology"] * 4  # a prefix is stratified over the subjects
    shifted = ar(8, 2); shifted = shifted[1:] + shifted[:1]  # a planted misaligned subject: rows shifted by one
    publish_dataset("MBZUAI/human_translated_arabic_mmlu", mirror_dir(cfg), "test", {"anatomy": {"test": ar(8, 1)}, "virology": {"test": shifted}})
    assert "subject 'virology' is misaligned" in run()["error"]

def test_check_compares_each_model_on_the_hub_with_the_plan(hub):
    "Through the hub, `hala check` reads each model's config: a size unlike the plan's, or a missing repository, is a line."
    cfg, endpoint, base = hub
    r = hala("check", "--profile", "paper", "--set", f"run_root={base}", "--set", f"hub.endpoint={endpoint}", timeout=300,
             env={"HF_HUB_CACHE": str(base/"check-cache")})  # the paper profile, pointed at a hub that holds a pico LFM2-1.2B
    assert r.returncode == 2, r.stdout + r.stderr
    assert "hala check: model LiquidAI/LFM2-1.2B: " in r.stdout and "the plan assumes 1,170,340,608 and 65,536" in r.stdout
    assert "hala check: model CohereLabs/command-a-translate-08-2025: not found on the hub (or private)" in r.stdout

def test_the_paper_profiles_loading_code_reads_every_stand_in_of_the_toy_run(toy_run):
    "Stage 01 publishes every paper id; the paper profile's own loaders read them through the local hub: ids, configs, splits, columns."
    from hala.hub import start_hub, stop_hub
    _, runs, roots, _ = toy_run
    sets = [roots[i + 1] for i in range(0, len(roots), 2)]
    cfg = load_profile("toy", sets)
    endpoint, started = start_hub(cfg)
    code = """
import json
from collections import Counter
from transformers import AutoConfig
from hala.core import load_profile, load_records, load_pairs, mt_eval_pairs
from hala.chats import BadRecord, adapt
from hala.distill import instruction_response
p = load_profile("paper", ["toy_world.enabled=true"])  # the paper's settings; only the refusal of stand-ins is lifted
out = {"models": {}, "sources": {}}
for ref in [p.models.teacher, p.models.teacher_fp8_reference, p.models.judge, p.models.translator_base, *p.models.bases.values()]:
    c = AutoConfig.from_pretrained(ref)
    out["models"][ref] = [c.architectures[0], bool(getattr(c, "quantization_config", None))]
sup = [instruction_response(r)[1] for r in load_records(p, p.datasets.supervision_en.model_copy(update={"limit": 50}))]
out["supervision_bad"] = sum(x is not None for x in sup)
out["candidates"] = len(load_pairs(p, p.datasets.parallel_candidates.model_copy(update={"limit": None})))
out["mt_eval"] = len(mt_eval_pairs(p))
for s in p.corpus.sources:
    why = Counter()
    for r in load_records(p, s.model_copy(update={"limit": None})):
        try: adapt(r, s.format, s.fields); why["ok"] += 1
        except BadRecord as e: why["bad"] += 1
    out["sources"][s.name] = dict(why)
print(json.dumps(out))
"""
    import os
    env = {**os.environ, "HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(runs/".cache"/"hub-test"), "HF_DATASETS_CACHE": str(runs/".cache"/"ds-test"),
           "HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0"}
    try: r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    finally:
        if started: stop_hub(cfg)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["models"] == {"CohereLabs/command-a-translate-08-2025": ["Cohere2ForCausalLM", False],
                             "hammh0a/command-a-translate-FP8-Dynamic": ["Cohere2ForCausalLM", True],
                             "Qwen/Qwen2.5-3B-Instruct": ["Qwen2ForCausalLM", False], "LiquidAI/LFM2-1.2B": ["Lfm2ForCausalLM", False],
                             "LiquidAI/LFM2-350M": ["Lfm2ForCausalLM", False], "LiquidAI/LFM2-700M": ["Lfm2ForCausalLM", False],
                             "QCRI/Fanar-1-9B-Instruct": ["Gemma2ForCausalLM", False]}
    assert out["supervision_bad"] == 0 and out["candidates"] > 1000 and out["mt_eval"] == 300
    assert set(out["sources"]) == {s.name for s in load_profile("paper").corpus.sources}
    for name, why in out["sources"].items():
        assert why.get("ok", 0) >= 20, (name, why)  # every source's rows adapt under the paper profile's own schema settings
    assert out["sources"]["tulu3"].get("bad", 0) > 0  # the planted malformed records are counted as bad, not crashes

def test_a_paper_run_refuses_stand_ins_from_the_local_hub_or_from_a_cache_it_filled(hub):
    "The loaders go through Profile.load_ref: pointed at the local hub, or given a cache that holds a stand-in, a paper run stops."
    cfg, endpoint, base = hub
    code = """
import json, sys
from hala.core import HalaError, load_profile, load_records
p = load_profile("paper")
out = []
for call in (lambda: p.load_ref("LiquidAI/LFM2-1.2B"), lambda: load_records(p, p.datasets.parallel_candidates)):
    try: call(); out.append("loaded")
    except HalaError as e: out.append(str(e).split(";")[0])
print(json.dumps(out))
"""
    cache = str(base/"refusal-cache")
    env = {**os.environ, "HF_HUB_CACHE": cache, "HF_DATASETS_CACHE": str(base/"refusal-dcache"), "HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={**env, "HF_ENDPOINT": endpoint})
    assert json.loads(r.stdout.strip().splitlines()[-1]) == [
        "LiquidAI/LFM2-1.2B is a local stand-in of the toy world, not the real repository",
        "Helsinki-NLP/opus-100 is a local stand-in of the toy world, not the real repository"], r.stderr[-2000:]
    # the same cache, the real Hub's endpoint, no network: the cached card still gives the model away
    r = subprocess.run([sys.executable, "-c", code.replace('lambda: load_records(p, p.datasets.parallel_candidates)', '')],
                       capture_output=True, text=True, timeout=300, env={**env, "HF_HUB_OFFLINE": "1"})
    assert json.loads(r.stdout.strip().splitlines()[-1]) == ["LiquidAI/LFM2-1.2B is a local stand-in of the toy world, not the real repository"], r.stderr[-2000:]

def test_processes_starting_together_share_one_local_hub(tmp_path):
    "DDP processes call setup_env at the same moment: one starts the server, the others find it (a file lock), none fails."
    from hala.hub import hub_status, stop_hub
    code = "import sys; from hala.core import load_profile; from hala.hub import start_hub; print(start_hub(load_profile('toy', sys.argv[1:]))[0])"
    ps = [subprocess.Popen([sys.executable, "-c", code, f"run_root={tmp_path}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
          for _ in range(3)]
    outs = [p.communicate(timeout=180) for p in ps]
    cfg = load_profile("toy", [f"run_root={tmp_path}"])
    try:
        assert all(p.returncode == 0 for p in ps), [o[1][-500:] for o in outs]
        assert len({o[0].strip() for o in outs}) == 1 and hub_status(cfg)["endpoint"] == outs[0][0].strip()
    finally: stop_hub(cfg)

def test_a_pinned_hub_id_loads_its_pinned_commit_and_a_missing_commit_is_one_line(hub):
    "`load_ref` downloads a pinned id at its commit (the snapshot folder every environment then loads); a commit the hub lacks stops with one line."
    cfg, endpoint, base = hub
    code = f"""
import json, yaml
from hala.core import HalaError, load_profile
from hala.hub import setup_env
from hala.core import revisions_file
cfg = setup_env(load_profile("toy", ["run_root={base}"]))
from huggingface_hub import HfApi
from datasets import load_dataset
api = HfApi()
pins = {{"models": {{"LiquidAI/LFM2-1.2B": api.model_info("LiquidAI/LFM2-1.2B").sha}},
        "datasets": {{"Helsinki-NLP/opus-100": api.dataset_info("Helsinki-NLP/opus-100").sha}}}}
f = revisions_file(cfg); f.parent.mkdir(parents=True, exist_ok=True); f.write_text(yaml.safe_dump(pins))
m, d = cfg.load_ref("LiquidAI/LFM2-1.2B"), cfg.load_ref("Helsinki-NLP/opus-100", "datasets")
rows = len(load_dataset(d, "ar-en", split="train"))
f.write_text(yaml.safe_dump({{"models": {{"LiquidAI/LFM2-1.2B": "0" * 40}}}}))
try: cfg.load_ref("LiquidAI/LFM2-1.2B"); err = None
except HalaError as e: err = str(e)
f.unlink()
print(json.dumps({{"pins": pins, "model": m, "data": d, "rows": rows, "err": err, "unpinned": cfg.load_ref("LiquidAI/LFM2-1.2B")}}))
"""
    env = {**os.environ, "HF_HUB_CACHE": str(base/"pcache"), "HF_DATASETS_CACHE": str(base/"pdcache")}
    env.pop("HF_ENDPOINT", None)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["model"].endswith("snapshots/" + out["pins"]["models"]["LiquidAI/LFM2-1.2B"]), out["model"]
    assert out["data"].endswith("snapshots/" + out["pins"]["datasets"]["Helsinki-NLP/opus-100"]) and out["rows"] == 3, out
    assert out["err"].startswith("model LiquidAI/LFM2-1.2B at the pinned revision 000000000000 could not be downloaded") and "\n" not in out["err"]
    assert out["unpinned"] == "LiquidAI/LFM2-1.2B"  # no pins file: the id, loaded at main

def test_check_reads_a_datasets_configs_splits_and_columns_from_the_hub_and_names_what_it_lacks(hub):
    "The schema check's hub reader on a stand-in (opus-100 here has train and test only): the file's validation split and an extra column are reported."
    cfg, endpoint, base = hub
    code = f"""
import json
from hala.core import load_profile
from hala.hub import setup_env
cfg = setup_env(load_profile("toy", ["run_root={base}"]))
from hala.check import schema_from_hub, schema_problems
got = schema_from_hub("Helsinki-NLP/opus-100", ["ar-en"])
want = {{"configs": ["ar-en"], "columns": {{"ar-en": {{"train": ["translation", "score"], "validation": ["translation"], "test": ["translation"]}}}}}}
print(json.dumps({{"got": got, "problems": schema_problems("Helsinki-NLP/opus-100", want, got)}}))
"""
    env = {**os.environ, "HF_HUB_CACHE": str(base/"scache"), "HF_DATASETS_CACHE": str(base/"sdcache")}
    env.pop("HF_ENDPOINT", None)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["got"] == {"configs": ["ar-en"], "columns": {"ar-en": {"train": ["translation"], "test": ["translation"]}}}, out
    assert out["problems"] == ["dataset Helsinki-NLP/opus-100: ar-en/train has no column score (it has translation; data/paper/datasets.yaml)",
                               "dataset Helsinki-NLP/opus-100: config ar-en has no split validation (data/paper/datasets.yaml)"], out

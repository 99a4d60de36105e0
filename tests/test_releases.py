"""Stage 10 and its commands: the released models verified beside the paper's table, the corpus audit (recall on planted
defects, false positives on clean text), and stages started from released artifacts."""
import json, re
from pathlib import Path

import pandas as pd
import yaml

from conftest import ROOT, hala


def _cc():
    from hala.core import load_profile
    return load_profile("paper").corpus


def test_the_audit_finds_every_planted_example_with_its_class_and_no_other():
    from hala.releases import AUDIT_CLASSES, audit_chat
    examples = yaml.safe_load((ROOT/"data"/"releases"/"audit_examples.yaml").read_text(encoding="utf-8"))
    assert {e["class"] for e in examples} == set(AUDIT_CLASSES) - {"length_ratio"}  # every class that needs no source is planted
    got = {e["text"]: set(audit_chat([{"role": "assistant", "content": e["text"]}], None, _cc())) for e in examples}
    assert all(got[e["text"]] == {e["class"]} for e in examples), [(e["class"], got[e["text"]]) for e in examples if got[e["text"]] != {e["class"]}]


def test_a_defect_already_in_the_english_source_is_not_counted():
    from hala.releases import audit_chat
    en = [{"role": "user", "content": "Use <br> here."}, {"role": "assistant", "content": r"Line one\nline two and $x^2$ done."}]
    ar = [{"role": "user", "content": "استخدم <br> هنا."}, {"role": "assistant", "content": r"السطر الأول\nالسطر الثاني و $x^2$ انتهى."}]
    assert audit_chat(ar, en, _cc()) == {}
    assert set(audit_chat(ar, None, _cc())) == {"stray_html", "literal_newline"}  # without the source both count


def _chats(path: Path) -> Path:
    rows = [{"conversations": [{"from": "human", "value": "ما عاصمة فرنسا؟"}, {"from": "gpt", "value": "عاصمة فرنسا هي باريس.<br>"}]},
            {"conversations": [{"from": "human", "value": "اشرح الكسور"}, {"from": "gpt", "value": "الكسر هو جزء من كل، مثل النصف والربع."}]},
            {"conversations": "not a list"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_audit_corpus_reads_any_chat_file_and_counts_what_is_no_chat(tmp_path):
    p = hala("audit-corpus", "--profile", "paper", "--dataset", str(_chats(tmp_path/"chats.jsonl")), timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "| stray_html | 2 | 1 | 50 |" in re.sub(r" +", " ", p.stdout), p.stdout  # one of the two chats
    assert "2 chats of" in p.stdout and "1 not chats ('conversations' is str, not a list)" in p.stdout, p.stdout


def test_audit_corpus_and_verify_release_refuse_bad_input_in_one_line(tmp_path):
    for args, words in [(["audit-corpus", "--dataset", str(tmp_path/"none.jsonl")], "not found"),
                        (["audit-corpus", "--dataset", str(_chats(tmp_path/"c.jsonl")), "--limit", "0"], "--limit 0"),
                        (["audit-corpus", "--dataset", str(tmp_path/"c.jsonl"), "--format", "alpaca"], "--format alpaca"),
                        (["verify-release", "--size", "3B"], "no released model for size 3B")]:
        p = hala(*args, "--profile", "paper", timeout=300)
        assert p.returncode == 2 and words in p.stderr and len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)


def test_stage_10_verifies_audits_and_trains_from_the_releases(toy_run):
    res = toy_run[0]
    v = pd.read_csv(res/"tables"/"releases_verify.csv")
    assert set(v["benchmark"]) == {"AlGhafa", "ArabicMMLU", "EXAMS", "MadinahQA", "AraTrust", "ArbMMLU-HT", "Avg"}, v
    for col in ("paper", "released", "released_se", "released_minus_paper", "within_paper", "ours", "released_minus_ours", "diff_se", "within_ours"):
        assert v[col].notna().all(), col
    big = v["items"] >= 30  # a benchmark of a few toy items can be all wrong (s.e. 0)
    assert (v.loc[big, "released_se"] > 0).all() and (v.loc[big, "diff_se"] > 0).all(), v
    # the released stand-in and our Hala model are distinct models: on every benchmark their per-item log-likelihoods differ
    # on most items (accuracies of a few toy items at chance can coincide, so they are not what tells them apart)
    from hala.evaluate import BENCHMARKS
    caches = sorted((toy_run[1]/"10_releases"/"cache").glob("*.json"))
    assert len(caches) == len(set(v["size"])) == 1, (caches, set(v["size"]))  # the toy verifies one size
    rel = json.loads(caches[0].read_text())["items"]
    ours = json.loads((res/"items"/"evaluate.json").read_text())[f"Hala-{v['size'].iloc[0]}-merged"]
    for g in BENCHMARKS:
        pairs = [(a, b) for t in rel if t == g or t.startswith(g + "_") for a, b in zip(rel[t], ours[t], strict=True)]
        assert pairs and all(a["doc"] == b["doc"] for a, b in pairs), g
        moved = sum(max(abs(x - y) for x, y in zip(a["ll"], b["ll"])) > 1e-3 for a, b in pairs)
        assert moved > 0.9 * len(pairs), (g, moved, len(pairs))
    recall = pd.read_csv(res/"tables"/"releases_audit_recall.csv")
    assert recall["found_alone"].all() and recall["found_in_stand_in"].all() and len(recall) >= 12
    fp = pd.read_csv(res/"tables"/"releases_audit_false_positives.csv")
    assert fp["records"].min() > 0 and fp["fp_rate_%"].max() <= 5, fp
    audit = pd.read_csv(res/"tables"/"releases_audit.csv")
    assert (audit.set_index("class").loc[["stray_html", "literal_newline", "garbled_latex"], "released_records"] > 0).all(), audit
    sft = pd.read_csv(res/"tables"/"releases_sft.csv")
    assert len(sft) == 2 and sft["arabic_loss"].iloc[1] < sft["arabic_loss"].iloc[0], sft  # training on the released corpus lowers its held-out loss
    info = json.loads((toy_run[1]/"10_releases"/"sft-350M"/"train_info.json").read_text())
    assert info["steps"] > 0 and info["train_records"] > 0


def test_the_released_models_are_distinct_from_the_bases_and_ours(toy_run):
    import torch
    from safetensors.torch import load_file
    runs = toy_run[1]
    released = load_file(str(runs/"01_assets"/"released"/"hala-1.2B"/"model.safetensors"))
    base = load_file(str(runs/"01_assets"/"released"/"bf16"/"lfm2-1.2B"/"model.safetensors"))
    ours = load_file(str(runs/"07_merge"/"1.2B"/"merged"/"model.safetensors"))
    k = next(iter(released))
    assert not torch.equal(released[k].float(), base[k].float()) and not torch.equal(released[k].float(), ours[k].float())


def test_verify_release_command_reuses_the_stage_s_evaluation(toy_run):
    p = hala("verify-release", "--profile", "toy", "--size", "1.2B", *toy_run[2], timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "| 1.2B | Avg |" in re.sub(" +", " ", p.stdout) and "hammh0a/Hala-1.2B: 536 items" in p.stdout, p.stdout[-2000:]  # AlGhafa: the leaderboard's 8 subsets


CHECK_INPUTS = r"""
import json, sys
from hala.core import load_profile
from hala.hub import setup_env
from hala.sft import corpus_split
from hala.corpus import work_dir
sets, extra = json.loads(sys.argv[1]), json.loads(sys.argv[2])
cfg = setup_env(load_profile("toy", sets + ["hala.corpus.id=hammh0a/Hala-4.6M-SFT", "hala.corpus.format=sharegpt"]))
train, held = corpus_split(cfg)
cfg2 = load_profile("toy", sets + extra)
chunks = list((work_dir(cfg2, cfg2.models.corpus_translator)/"chunks").glob("*.jsonl"))
print(json.dumps({"train": len(train), "held_roles": [m["role"] for m in held[0]["messages"]] if held else [],
                  "chunks": len(chunks), "empty": sum(1 for c in chunks if not c.stat().st_size)}))
"""

def test_stages_05_and_06_start_from_the_released_translator_and_corpus(toy_run):
    "The stage inputs take the released ids: stage 05 translates with the released translator, stage 06's corpus reader reads the released corpus."
    import subprocess, sys
    sets = [a for a in toy_run[2] if a != "--set"]
    extra = [f"corpus.sources.{i}.limit=1" for i in range(7)] + ["corpus.max_new_tokens=8", "models.corpus_translator=hammh0a/Hala-1.2B-EN-AR-Translator"]
    p = hala("translate-corpus", "--profile", "toy", "--no-progress", *toy_run[2], *[a for e in extra for a in ("--set", e)], timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    r = subprocess.run([sys.executable, "-c", CHECK_INPUTS, json.dumps(sets), json.dumps(extra)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]  # in a process of its own: the local hub must be set before huggingface_hub is imported
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["train"] > 300 and got["held_roles"] and set(got["held_roles"]) <= {"user", "assistant"}, got
    assert got["chunks"] > 0 and got["empty"] == 0, (got, p.stdout)

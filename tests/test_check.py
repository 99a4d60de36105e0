"""The memory plan and `hala check`: the arithmetic against published parameter counts, and the preflight's lines."""
import pytest

from conftest import hala
from hala.core import load_profile

def test_parameter_counting_matches_published_counts_at_paper_scale():
    "The stand-ins' architectures, scaled up to the real dimensions, count what the model cards publish."
    from transformers import Gemma2Config, Qwen2Config
    from hala.check import param_count, paper_models
    known = paper_models()
    assert param_count(Gemma2Config(hidden_size=3584, num_hidden_layers=42, num_attention_heads=16, num_key_value_heads=8, head_dim=256,
                                    intermediate_size=14336, vocab_size=256000)) == known["QCRI/Fanar-1-9B-Instruct"]["params"]
    assert param_count(Qwen2Config(hidden_size=2048, num_hidden_layers=36, num_attention_heads=16, num_key_value_heads=2,
                                   intermediate_size=11008, vocab_size=151936, tie_word_embeddings=True)) == known["Qwen/Qwen2.5-3B-Instruct"]["params"]

def test_the_paper_plan_fits_8_gpus_of_80_gb_and_the_9b_at_micro_batch_8_would_not():
    from hala.check import memory_plan
    plan = {r["step"]: r for r in memory_plan(load_profile("paper"))}
    assert all(r["fits"] for r in plan.values()), [r for r in plan.values() if not r["fits"]]
    assert plan["Hala-9B SFT"]["logits GB"] == pytest.approx(2 * 4096 * 256000 * 6 / 1e9)
    assert plan["FP8 teacher translates (vLLM)"]["weights GB"] == pytest.approx(111e9 / 8 / 1e9)
    big = {r["step"]: r for r in memory_plan(load_profile("paper", ["hala.train.batch_size=8"]))}
    assert big["Hala-9B SFT"]["fits"] is False and big["Hala-1.2B SFT"]["fits"] is True

def test_check_passes_on_the_toy_and_lists_what_a_paper_run_lacks_here(toy_run, tmp_path):
    toy = hala("check", "--profile", "toy", *toy_run[2], timeout=300)  # the toy run's folder: stage 01 published the stand-ins
    assert toy.returncode == 0 and "every prerequisite holds" in toy.stdout, toy.stdout + toy.stderr
    empty = hala("check", "--profile", "toy", "--set", f"run_root={tmp_path}", timeout=300)  # before stage 01: nothing on the local hub
    assert empty.returncode == 2 and "hala check: model LiquidAI/LFM2-1.2B: not found on the local hub: run stage 01" in empty.stdout, empty.stdout
    paper = hala("check", "--profile", "paper", timeout=300)
    lines = [l for l in paper.stdout.splitlines() if l.startswith("hala check: ") and "licence" not in l]
    assert paper.returncode == 2, paper.stdout + paper.stderr
    assert "hala check: GPUs: 0 visible, the plan needs 8 (cluster.gpus_per_node)" in lines
    from hala.check import hub_ids
    n = len(hub_ids(load_profile("paper")))  # the paper's ids and the authors' releases
    assert any(l.startswith(f"hala check: revisions: {n} of {n} hub ids have no pinned commit in") for l in lines), lines
    assert any(l.startswith("hala check: hub") for l in lines)  # no token here, and no hub to reach
    assert lines[-1] == f"hala check: profile paper: {len(lines) - 1} prerequisite(s) missing"
    assert "cc-by-nc-4.0" in paper.stdout

def test_pin_without_a_hub_is_one_line_and_writes_nothing(tmp_path):
    pins = tmp_path/"pins.yaml"
    p = hala("pin", "--profile", "paper", "--set", f"hub.revisions={pins}", timeout=120)
    assert p.returncode == 2 and not pins.exists(), p.stdout + p.stderr
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hala: error: model CohereLabs/command-a-translate-08-2025: the hub at") and "nothing written" in err[0], err

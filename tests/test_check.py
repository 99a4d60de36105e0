"""The memory plan and `hala check`: the arithmetic against published parameter counts, and the preflight's lines."""
import pytest

from conftest import hala
from hala.core import load_profile

# Parameter counts as their publishers state them, read independently of data/paper/models.csv:
# - LFM2: the LiquidAI/LFM2-* model cards' table, "Parameters: 354,483,968 | 742,489,344 | 1,170,340,608" (exact).
# - Gemma-2-9B, the base of Fanar-1-9B (Fanar paper, arXiv 2501.13944: "continually trained on the Gemma-2 9B base"):
#   the Gemma 2 technical report (arXiv 2408.00118, Table 2), 8,324,201,984 non-embedding + 917,504,000 embedding (exact).
# - Qwen2.5-3B-Instruct: its model card, "Number of Parameters: 3.09B", "(Non-Embedding): 2.77B" (rounded: +-0.005B).
PUBLISHED = {"LiquidAI/LFM2-350M": 354_483_968, "LiquidAI/LFM2-700M": 742_489_344, "LiquidAI/LFM2-1.2B": 1_170_340_608,
             "QCRI/Fanar-1-9B-Instruct": 8_324_201_984 + 917_504_000}

def test_parameter_counting_matches_published_counts_at_paper_scale():
    "The stand-ins' architectures at the real dimensions count what the publishers state; so do the counts the memory plan reads."
    from transformers import Gemma2Config, Lfm2Config, Qwen2Config
    from hala.check import param_count, paper_models
    gemma = param_count(Gemma2Config(hidden_size=3584, num_hidden_layers=42, num_attention_heads=16, num_key_value_heads=8, head_dim=256,
                                     intermediate_size=14336, vocab_size=256000))
    assert gemma == PUBLISHED["QCRI/Fanar-1-9B-Instruct"] and gemma - 256000 * 3584 == 8_324_201_984
    attn = [2, 5, 8, 10, 12, 14]  # LFM2-1.2B's config.json: 16 blocks, 6 of them attention, 10 gated short convolutions
    lfm2 = param_count(Lfm2Config(vocab_size=65536, hidden_size=2048, intermediate_size=12288, num_hidden_layers=16, num_attention_heads=32,
                                  num_key_value_heads=8, block_auto_adjust_ff_dim=True, block_ffn_dim_multiplier=1.0, block_multiple_of=256,
                                  layer_types=["full_attention" if i in attn else "conv" for i in range(16)], tie_word_embeddings=True))
    assert lfm2 == PUBLISHED["LiquidAI/LFM2-1.2B"]
    qwen = param_count(Qwen2Config(hidden_size=2048, num_hidden_layers=36, num_attention_heads=16, num_key_value_heads=2,
                                   intermediate_size=11008, vocab_size=151936, tie_word_embeddings=True))
    assert abs(qwen - 3.09e9) <= 0.005e9 and abs(qwen - 151936 * 2048 - 2.77e9) <= 0.005e9, qwen
    known = paper_models()
    assert {k: known[k]["params"] for k in PUBLISHED} == PUBLISHED
    assert abs(known["Qwen/Qwen2.5-3B-Instruct"]["params"] - 3.09e9) <= 0.005e9

def test_the_paper_plan_fits_8_gpus_of_80_gb_and_the_9b_at_micro_batch_8_would_not():
    from hala.check import memory_plan
    plan = {r["step"]: r for r in memory_plan(load_profile("paper"))}
    assert all(r["fits"] for r in plan.values()), [r for r in plan.values() if not r["fits"]]
    # By hand, from the models' configs and paper.yaml:
    # - Hala-9B SFT logits: micro-batch 2 x 4,096 tokens x 256,000 vocabulary (Gemma-2) = 2,097,152,000 logits, held in BF16
    #   (2 B) and upcast to FP32 for the loss (4 B): 6 B each = 12.582912 GB on each GPU (FSDP shards weights, not activations).
    # - FP8 teacher weights: 111e9 parameters x 1 B over tensor parallel 8 = 13.875 GB per GPU.
    # - Hala-1.2B SFT weights: 1,170,340,608 parameters x 4 B (fp32 masters under bf16 autocast), DDP keeps a whole copy
    #   per GPU = 4.681362432 GB; gradients and AdamW's two moments in fp32, 12 B a parameter = 14.044087296 GB.
    # - Hala-9B SFT: 9,241,705,984 parameters x 16 B over 8 FSDP shards = 18.483411968 GB of weights and training state.
    assert plan["Hala-9B SFT"]["logits GB"] == pytest.approx(12.582912)
    assert plan["FP8 teacher translates (vLLM)"]["weights GB"] == pytest.approx(13.875)
    assert plan["Hala-1.2B SFT"]["weights GB"] == pytest.approx(4.681362432)
    assert plan["Hala-1.2B SFT"]["train state GB"] == pytest.approx(14.044087296)
    assert plan["Hala-9B SFT"]["weights GB"] + plan["Hala-9B SFT"]["train state GB"] == pytest.approx(18.483411968)
    big = {r["step"]: r for r in memory_plan(load_profile("paper", ["hala.train.batch_size=8"]))}
    assert big["Hala-9B SFT"]["fits"] is False and big["Hala-1.2B SFT"]["fits"] is True

def test_check_passes_on_the_toy_and_lists_what_a_paper_run_lacks_here(toy_run, tmp_path):
    toy = hala("check", "--profile", "toy", *toy_run[2], timeout=300)  # the toy run's folder: stage 01 published the stand-ins
    assert toy.returncode == 0 and "every prerequisite holds" in toy.stdout, toy.stdout + toy.stderr
    empty = hala("check", "--profile", "toy", "--set", f"run_root={tmp_path}", timeout=300)  # before stage 01: nothing on the local hub
    assert empty.returncode == 2 and "hala check: model LiquidAI/LFM2-1.2B: not found on the local hub: run stage 01" in empty.stdout, empty.stdout
    paper = hala("check", "--profile", "paper", timeout=300)
    bench_lines = [l for l in paper.stdout.splitlines() if l.startswith("hala check: benchmark dataset ")]  # what lm-eval reads, and its pin
    lines = [l for l in paper.stdout.splitlines() if l.startswith("hala check: ") and "licence" not in l and l not in bench_lines]
    assert paper.returncode == 2, paper.stdout + paper.stderr
    assert "hala check: GPUs: 0 visible, the plan needs 8 (cluster.gpus_per_node)" in lines
    from hala.core import hub_ids
    from hala.refs import benchmark_datasets
    bench = benchmark_datasets()
    assert "OALL/AlGhafa-Arabic-LLM-Benchmark-Native" in bench and "MBZUAI/ArabicMMLU" in bench and len(bench) == 7, bench  # the six and ALRAGE
    assert bench_lines == [f"hala check: benchmark dataset {b}: not pinned (the hub's main of the day)" for b in bench], bench_lines
    n = len(hub_ids(load_profile("paper"))) - len(bench)  # the paper's ids and the authors' releases
    assert any(l.startswith(f"hala check: revisions: {n} of {n} hub ids have no pinned commit in") for l in lines), lines
    for b in bench:  # each unpinned benchmark dataset is a line of its own
        assert sum(l.startswith(f"hala check: revisions: benchmark dataset {b} has no pinned commit") for l in lines) == 1, (b, lines)
    assert any(l.startswith("hala check: hub") for l in lines)  # no token here, and no hub to reach
    assert lines[-1] == f"hala check: profile paper: {len(lines) - 1} prerequisite(s) missing"
    assert "cc-by-nc-4.0" in paper.stdout

def test_pin_without_a_hub_is_one_line_and_writes_nothing(tmp_path):
    pins = tmp_path/"pins.yaml"
    p = hala("pin", "--profile", "paper", "--set", f"hub.revisions={pins}", timeout=120)
    assert p.returncode == 2 and not pins.exists(), p.stdout + p.stderr
    err = p.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hala: error: model CohereLabs/command-a-translate-08-2025 (") and "nothing written" in err[0], err
    assert "did not give its commit, nor did the other" in err[0], err  # every id was asked, none answered

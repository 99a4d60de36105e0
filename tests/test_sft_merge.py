"Stages 06-07: every toy size trains and beats its base on held-out Arabic; DDP on 2 CPU processes takes the same optimizer steps; checkpoints resume; SLERP endpoints are exact."
import json, os, signal, subprocess, sys, time
from pathlib import Path

import pytest

from conftest import ROOT
from hala.core import load_profile

def _cfg(toy_run, *extra):
    _, runs, roots, _ = toy_run
    sets = [roots[i + 1] for i in range(0, len(roots), 2)]
    return load_profile("toy", sets + list(extra)), sets

def test_every_size_is_trained_merged_and_reported(toy_run):
    res, runs, _, r = toy_run
    cfg = load_profile("toy")
    for size in cfg.hala.sizes:
        assert f"06_sft ({size}): done in" in r.stdout
        assert (runs/"06_sft"/size/"model"/"config.json").exists() and (res/"figures"/f"sft_loss_{size}.png").exists()
        card = (runs/"07_merge"/size/"merged"/"README.md").read_text()
        assert cfg.models.bases[size] in card and "Hala-" in card and f"t = {cfg.merge.t}" in card, card
        assert (runs/"07_merge"/size/"merged"/"tokenizer.json").exists()
    for f in ("tables/sft_packing_350M.csv", "timings/sft_packing_speed_350M.csv", "tables/merge_t_sweep.csv",
              "figures/merge_t_sweep.png", "figures/sft_loss_all.png"):
        assert (res/f).exists(), f

def test_each_hala_model_has_lower_heldout_arabic_loss_than_its_base(toy_run):
    res = toy_run[0]
    for size in load_profile("toy").hala.sizes:
        h = json.loads((res/"metrics"/f"sft_{size}.json").read_text())["heldout"]
        assert h[f"Hala-{size}"]["arabic_loss"] < h["base"]["arabic_loss"] - 0.5, (size, h)

def test_packing_removes_padding(toy_run):
    m = json.loads((toy_run[0]/"metrics"/"sft_350M.json").read_text())["padding_share"]
    assert m["unpacked"] > 0.1 and m["packed"] < m["unpacked"] / 4, m

def _weights(d):
    from safetensors.torch import load_file
    out = {}
    for f in sorted(Path(d).glob("*.safetensors")): out.update(load_file(str(f)))
    return out

def test_slerp_at_t0_and_t1_reproduces_base_and_finetuned_exactly(toy_run):
    _, runs, _, _ = toy_run
    cfg = load_profile("toy")
    for size in cfg.hala.sizes:
        role = next(r for r, spec in cfg.toy_world.pico.items() if spec.stands_for == cfg.models.bases[size])
        base = _weights(runs/"01_assets"/"released"/"bf16"/role)  # the base as the local hub serves it
        tuned = _weights(runs/"06_sft"/size/"model")
        m0, m1 = _weights(runs/"07_merge"/size/"sweep"/"t0.00"), _weights(runs/"07_merge"/size/"sweep"/"t1.00")
        assert set(m0) == set(base) and set(m1) == set(tuned)
        assert all((m0[k] == base[k].to(m0[k].dtype)).all() for k in base), size
        assert all((m1[k] == tuned[k].to(m1[k].dtype)).all() for k in tuned), size
        mid = _weights(runs/"07_merge"/size/"merged")
        assert any(not (mid[k] == base[k]).all() for k in base) and any(not (mid[k] == tuned[k]).all() for k in tuned)

def test_two_process_ddp_takes_the_same_optimizer_steps_as_one_process(toy_run, tmp_path):
    from hala.sft import launch
    cfg, sets = _cfg(toy_run)
    one = launch(cfg, "350M", tmp_path/"one", sets + ["hala.train.batch_size=8", "hala.train.max_steps=-1"],
                 config_file="data/accelerate/cpu_1proc.yaml")
    two = launch(cfg, "350M", tmp_path/"two", sets + ["hala.train.batch_size=4", "hala.train.max_steps=-1"],
                 config_file="data/accelerate/cpu_ddp2.yaml")
    assert (one["processes"], two["processes"]) == (1, 2)
    assert one["global_batch"] == two["global_batch"] == 8
    assert one["steps"] == two["steps"] > 5, (one["steps"], two["steps"])
    assert (tmp_path/"two"/"model"/"model.safetensors").exists()

def test_a_killed_training_resumes_from_its_last_checkpoint(toy_run, tmp_path):
    cfg, sets = _cfg(toy_run, "hala.save_steps=5")
    args = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ROOT/"data/accelerate/cpu_1proc.yaml"),
            str(Path(sys.executable).parent/"hala"), "train-size", "--profile", "toy", "--size", "350M", "--out", str(tmp_path),
            "--max-steps", "30", *[a for s in sets + ["hala.save_steps=5"] for a in ("--set", s)]]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, start_new_session=True)
    trainer = tmp_path/"_trainer"
    while p.poll() is None and not list(trainer.glob("checkpoint-*/trainer_state.json")): time.sleep(0.05)
    assert p.poll() is None, "training finished before it could be killed"
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    assert not (tmp_path/"train_info.json").exists()
    r = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    info = json.loads((tmp_path/"train_info.json").read_text())
    assert info["resumed_from"] and info["resumed_from"].startswith("checkpoint-") and info["steps"] == 30, info

def test_accelerate_configs_load_and_the_paper_profile_names_them():
    from accelerate.commands.config.config_args import load_config_from_file
    for f in sorted((ROOT/"data"/"accelerate").glob("*.yaml")):
        c = load_config_from_file(str(f))
        assert c.num_processes >= 1, f
    p = load_profile("paper")
    assert p.hala.sizes == ["350M", "700M", "1.2B", "9B"] and p.merge.t == 0.5
    assert p.hala.launch["9B"].endswith("fsdp_8xh100.yaml") and load_config_from_file(str(ROOT/p.hala.launch["9B"])).num_processes == 8
    for size, tpl in p.hala.chat_templates.items():
        if tpl: assert "{% generation %}" in (ROOT/tpl).read_text(), tpl

def test_multi_gpu_launch_configs_agree_with_the_profile_and_save_full_weights():
    "Trainer refuses a DeepSpeed gradient accumulation that differs from its own; FSDP must gather a full state dict to write weights."
    from accelerate.commands.config.config_args import load_config_from_file
    p = load_profile("paper")
    for f in sorted((ROOT/"data"/"accelerate").glob("*.yaml")):
        c = load_config_from_file(str(f))
        ga = (c.deepspeed_config or {}).get("gradient_accumulation_steps")
        assert ga in (None, "auto", p.hala.train.grad_accum), (f.name, ga)
        if c.distributed_type == "FSDP": assert c.fsdp_config["fsdp_state_dict_type"] == "FULL_STATE_DICT", f.name

def test_realign_alpaca_records_in_their_published_layout_become_chats():
    "GAIR/ReAlign-Alpaca is ReAlign's JSON layout (id, items: [{from, value}]; GAIR-NLP/ReAlign README), not alpaca columns."
    from hala.chats import adapt
    src = next(s for s in load_profile("paper").corpus.sources if s.id == "GAIR/ReAlign-Alpaca")
    rec = {"id": 0, "items": [{"from": "human", "value": "Give three tips for staying healthy.", "category": "advice_giving"},
                              {"from": "gpt", "value": "1. Eat a balanced diet.\n2. Exercise.\n3. Sleep."}]}
    assert adapt(rec, src.format, src.fields) == [{"role": "user", "content": "Give three tips for staying healthy."},
                                                  {"role": "assistant", "content": "1. Eat a balanced diet.\n2. Exercise.\n3. Sleep."}]

def test_a_sharding_launch_config_is_refused_on_a_machine_without_gpus():
    "accelerate 1.15 enables FSDP and DeepSpeed only on GPUs: on CPU the processes would each train alone, silently."
    from hala.core import HalaError
    from hala.train import check_launch_config
    for f in ("fsdp_8xh100.yaml", "zero3_8xh100.yaml"):
        with pytest.raises(HalaError, match="shards the model"): check_launch_config(str(ROOT/"data"/"accelerate"/f), gpus=0)
        check_launch_config(str(ROOT/"data"/"accelerate"/f), gpus=8)
    check_launch_config(str(ROOT/"data"/"accelerate"/"cpu_ddp2.yaml"), gpus=0)

def test_the_9b_template_marks_assistant_turns_and_folds_the_system_turn_into_the_first_user_turn():
    "Gemma-2 has no system role, and OpenOrca, Hermes 3 and Tulu 3 records open with one: it becomes the first user turn's preamble."
    from hala.textgen import tiny_lm
    _, tok = tiny_lm()
    tok.chat_template = (ROOT/load_profile("paper").hala.chat_templates["9B"]).read_text()
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Ciao"}]
    text = tok.apply_chat_template(msgs, tokenize=False)
    assert text == (tok.bos_token + "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n"
                    "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\nCiao<end_of_turn>\n")
    enc = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    masked = tok.decode([t for t, m in zip(enc["input_ids"], enc["assistant_masks"]) if m])
    assert masked == "Hello<end_of_turn>Ciao<end_of_turn>"
    assert tok.apply_chat_template(msgs[1:2], tokenize=False, add_generation_prompt=True).endswith("<start_of_turn>model\n")

def test_every_model_keeps_its_family_s_turn_tokens_bos_and_stop_tokens(toy_run):
    "The stand-ins carry the real families' tokenizers (data/paper/tokenizers.yaml); SFT and merging keep them, and their stop tokens."
    from transformers import AutoTokenizer, GenerationConfig
    from hala.core import tokenizer_families
    from hala.textgen import chat_prompt
    _, runs, _, _ = toy_run
    cfg, fams = load_profile("toy"), tokenizer_families()
    chat = [{"role": "user", "content": "Translate: Egypt"}]
    for size in cfg.hala.sizes:
        role = next(r for r, spec in cfg.toy_world.pico.items() if spec.stands_for == cfg.models.bases[size])
        fam = fams[cfg.toy_world.pico[role].arch]
        for d in (runs/"01_assets"/"released"/"bf16"/role, runs/"06_sft"/size/"model", runs/"07_merge"/size/"merged"):
            tok = AutoTokenizer.from_pretrained(d)
            assert (tok.bos_token, tok.eos_token, tok.pad_token) == (fam["bos"], fam["eos"], fam["pad"]), d
            ids = tok(chat_prompt(tok, chat), add_special_tokens=False)["input_ids"]
            toks = tok.convert_ids_to_tokens(ids)
            assert sum(t in fam["specials"] for t in toks) >= 3, (d, toks)  # turn markers are single special tokens, not text
            if fam["bos"]: assert toks[0] == fam["bos"] and toks.count(fam["bos"]) == 1, (d, toks[:3])
            stops = GenerationConfig.from_pretrained(d).eos_token_id
            stops = stops if isinstance(stops, list) else [stops]
            assert set(tok.convert_tokens_to_ids(fam["stop"])) <= set(stops), (d, stops)  # Gemma: <end_of_turn> too

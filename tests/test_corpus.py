"Stage 05: structure survives translation byte for byte, malformed records are rejected with reasons, a killed run resumes exactly."
import json, os, random, signal, subprocess, sys, time
from pathlib import Path

import pytest

from hala.core import load_profile, read_jsonl
from hala.chats import read_source, reason_kind
from hala.corpus import assemble, record_pieces

ROOT = Path(__file__).resolve().parents[1]
STRUCTURE = ROOT/"data"/"corpus"/"structure_en.jsonl"
words = lambda s: len(s.split())

def _in_order(text: str, spans: list[str]) -> bool:
    "Every span occurs in `text`, byte for byte, each after the previous one."
    pos = 0
    for s in spans:
        i = text.find(s, pos)
        if i < 0: return False
        pos = i + len(s)
    return True

def _structure():
    return [json.loads(l) for l in STRUCTURE.read_text(encoding="utf-8").splitlines()]

@pytest.mark.parametrize("rec", _structure(), ids=lambda r: r["id"])
def test_structure_is_kept_byte_for_byte_and_in_place(rec):
    cfg = load_profile("toy")
    pieces = record_pieces(rec["messages"], words, 12)
    tr = {t: {"text": "ترجمة", "finish": "stop"} for turn in pieces for k, t in turn if k == "prose"}
    out = assemble({**rec, "source": "structure"}, pieces, tr, cfg.corpus)
    assert out["status"] == "kept", out
    whole = "\x00".join(m["content"] for m in out["messages"])
    assert _in_order(whole, rec["expect_kept"]), (rec["expect_kept"], whole)
    assert not any(w.isascii() and w.isalpha() and len(w) > 3 and w not in "".join(rec["expect_kept"]) for w in whole.replace("\x00", " ").split()), whole
    for m, turn in zip(out["messages"], pieces):  # everything that is not prose is the source's text, in place
        assert m["content"] == "".join(t if k == "keep" else "ترجمة" for k, t in turn)

def test_long_prose_is_cut_to_the_budget_and_reassembled_in_order():
    rec = next(r for r in _structure() if r["id"] == "long-turn")
    pieces = record_pieces(rec["messages"], words, 12)
    prose = [t for k, t in pieces[1] if k == "prose"]
    assert len(prose) > 4 and all(words(t) <= 12 for t in prose)
    assert "".join(t for _, t in pieces[1]) == rec["messages"][1]["content"]

def test_toy_run_keeps_structure_and_rejects_every_malformed_record(toy_run):
    results, runs, _, _ = toy_run
    from datasets import load_from_disk
    ds = load_from_disk(str(runs/"05_translate_corpus"/"corpus"))
    by_id = {r["id"]: r for r in ds}
    expect = {f"tulu3/{r['id']}": r["expect_kept"] for r in _structure()}  # planted in the Tulu 3 stand-in
    kept = [i for i in expect if i in by_id]
    assert len(kept) >= len(expect) // 2, f"only {kept} of the structure records were kept"
    for i in kept:  # the pico translator's real output: structure still byte for byte
        assert _in_order("\x00".join(m["content"] for m in by_id[i]["messages"]), expect[i]), i
    planted = {f"tulu3/{r['id']}" for r in read_jsonl(runs/"01_assets"/"stand_ins_planted.jsonl") if r["kind"] == "malformed"}
    rejected = [r for r in read_jsonl(runs/"05_translate_corpus"/"rejected.jsonl") if r["id"] in planted]
    assert len(rejected) >= 15 and len({reason_kind(r["reason"]) for r in rejected}) >= 10, rejected
    m = json.loads((results/"metrics"/"corpus.json").read_text())
    rec = m["records"]
    assert rec["input"] == rec["kept"] + rec["dropped"] + rec["rejected"]
    for t in ("corpus_sources", "corpus_cache", "corpus_defects", "corpus_defect_examples", "corpus_rejected"):
        assert (results/"tables"/f"{t}.csv").exists(), t
    assert 0 < m["cache"]["hit_rate"] < 1

MALFORMED_REASONS = ["not JSON", "not UTF-8", "record is list", "record is str", "no 'messages' field", "'messages' is str",
    "'messages' is empty", "turn 0 is str", "has no 'role'", "role is int", "unknown role 'robot'", "missing or null",
    "content is int", "is a list", "turn 0 (user) is empty", "turn 1 (assistant) is empty", "control characters",
    "lone surrogate", "U+FFFD", "is huge", "more than 16 turns", "system turn not first", "no user or assistant turn",
    "is not the user's", "same role", "does not end with an assistant turn", "id is list", "id is empty", "id is bool",
    None, "duplicate id"]

def test_each_malformed_record_is_rejected_with_its_reason(tmp_path):
    from hala.chats import Sources
    from hala.corpus import chunk_records
    # a local JSONL file is read line by line: every malformed kind reaches the adapters, even those no Parquet stand-in can hold
    cfg = load_profile("toy", ["corpus.sources=[{name: malformed, id: data/corpus/malformed_en.jsonl, config: null, split: train, "
                               "limit: null, format: messages, fields: {}}]"])
    src = cfg.corpus.sources[0]
    raw = read_source(cfg, src)
    assert len(raw) == len(MALFORMED_REASONS)
    recs, ok, _ = chunk_records(cfg, Sources(cfg), {"source": src.name, "start": 0, "end": len(raw)}, lambda s: len(s.split()))
    got = [r.get("reason") for r in recs]  # every planted record, the repeated id included (it is rejected when chunked)
    for k, (want, reason) in enumerate(zip(MALFORMED_REASONS, got, strict=True)):
        assert (reason is None) if want is None else (reason is not None and want in reason), (k, want, reason)
    assert len(ok) == MALFORMED_REASONS.count(None) and len({reason_kind(r) for r in got if r}) >= 20

# ---- a killed run resumes to exactly the uninterrupted output --------------------------------------------------------

WORKER = r'''
import json, sys
from pathlib import Path
from hala.core import load_profile
from hala.corpus import translate_corpus, assemble_corpus
d = Path(sys.argv[1])
cfg = load_profile("toy", [f"run_root={d}/runs", f"results_root={d}/results", f"models.corpus_translator={sys.argv[2]}",
                           "corpus.chunk_records=6", "engine.shard_size=8", "engine.batch_size=8",
                           f"corpus.sources=[{{name: t, id: {sys.argv[3]}, config: null, split: train, limit: null, format: messages, fields: {{}}}}]"])
translate_corpus(cfg, progress=False)
heads, rows = assemble_corpus(cfg)
(d/"out.json").write_text(json.dumps({"heads": heads, "rows": rows}, ensure_ascii=False, sort_keys=True))
'''

def _source(path: Path):
    rng = random.Random(1)
    vocab = "water light plant house river city book child market window garden mountain teacher road".split()
    rows = []
    for i in range(60):
        sent = lambda n: " ".join(rng.choice(vocab) for _ in range(n)).capitalize() + "."
        user = f"{sent(rng.randint(3, 9))} Use `x = {i}` and see https://example.com/{i}."
        asst = "\n".join(sent(rng.randint(2, 12)) for _ in range(rng.randint(1, 4)))
        rows.append({"id": f"r{i}", "messages": [{"role": "system", "content": "You are a helpful assistant."},
                                                  {"role": "user", "content": user}, {"role": "assistant", "content": asst}]})
    rows[7] = {"id": "r7", "messages": [{"role": "user", "content": ""}]}
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from hala.textgen import tiny_lm
    d = tmp_path_factory.mktemp("tiny")
    m, t = tiny_lm(); m.save_pretrained(d/"m"); t.save_pretrained(d/"m")
    _source(d/"src.jsonl")
    return d/"m", d/"src.jsonl"

def _run(d, tiny, *extra):
    return subprocess.Popen([sys.executable, "-c", WORKER, str(d), str(tiny[0]), str(tiny[1]), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

def _job(d):
    "(result shards written, shards) of the corpus's one generation job, (0, 0) before it exists."
    meta = list(Path(d).glob("runs/toy/05_translate_corpus/work-*/jobs/segments-*/job.json"))
    if not meta: return 0, 0
    return len(list(meta[0].parent.glob("results/*.jsonl"))), json.loads(meta[0].read_text())["n_shards"]

def _shards(d) -> dict:
    "Each result shard of the corpus's job: its file name -> (modification time, bytes)."
    return {f.name: (f.stat().st_mtime_ns, f.read_bytes()) for f in Path(d).glob("runs/toy/05_translate_corpus/work-*/jobs/segments-*/results/*.jsonl")}

def _chunks(d):
    return len(list(Path(d).glob("runs/toy/05_translate_corpus/work-*/chunks/*.jsonl")))

def test_sigkilled_corpus_run_resumes_to_identical_output(tmp_path, tiny):
    "The corpus is one job: killed inside it three times, at random shards, the run still ends with the uninterrupted output."
    p = _run(tmp_path/"a", tiny); assert p.wait(600) == 0, p.stderr.read()
    expected = json.loads((tmp_path/"a"/"out.json").read_text())
    rng, kills, done_at_kill = random.Random(0), 0, []
    for frac in sorted(rng.uniform(0.1, 0.9) for _ in range(3)):
        before, kept = _job(tmp_path/"b")[0], _shards(tmp_path/"b")  # result shards the earlier runs left
        p = _run(tmp_path/"b", tiny)
        while p.poll() is None:  # kill only after this run wrote a shard of its own, at the random point or later
            done, n = _job(tmp_path/"b")
            if n and done > before and done >= max(1, int(frac * n)): break
            time.sleep(0.005)
        assert p.poll() is None, "the run finished before it could be killed"
        os.kill(p.pid, signal.SIGKILL); p.wait(); kills += 1
        done, n = _job(tmp_path/"b")
        assert _chunks(tmp_path/"b") == 0 and before < done < n, (before, done, n)  # inside the job, after new work
        now = _shards(tmp_path/"b")
        assert {k: now.get(k) for k in kept} == kept, sorted(k for k in kept if now.get(k) != kept[k])  # finished shards not redone
        done_at_kill.append(done)
    assert done_at_kill == sorted(set(done_at_kill)), done_at_kill  # each restarted run made progress before its kill
    p = _run(tmp_path/"b", tiny); assert p.wait(600) == 0, p.stderr.read()
    got = json.loads((tmp_path/"b"/"out.json").read_text())
    assert kills == 3 and got == expected  # rows and per-chunk counts, cache hits included
    ids = [r["id"] for r in got["rows"]]
    assert len(ids) == len(set(ids)) == 60
    assert {r["status"] for r in got["rows"]} <= {"kept", "dropped", "rejected"}
    assert next(r for r in got["rows"] if r["id"] == "t/r7")["status"] == "rejected"
    assert sum(h["stats"]["served_from_cache"] for h in got["heads"]) > 0  # the system prompt repeats
    assert len(list(Path(tmp_path/"b").glob("runs/toy/05_translate_corpus/work-*/jobs/*"))) == 0  # the job, now cached, is gone

# ---- bounded memory: the corpus path holds a chunk and a shard, not the job ----------------------------------------

def test_the_corpus_path_s_peak_memory_does_not_grow_with_the_job(tmp_path):
    """Peak traced memory of `translate_corpus` (stand-in engine) at two job sizes 10x apart. A path that holds its job
    (every segment, request and result at once, as it did before the plan moved to SQLite) grows about tenfold; a path
    that streams holds one chunk and one shard at either size. The real measurement at 10k-1M requests is
    `hala bench scale` (results/toy/bench/scale.json)."""
    import tracemalloc
    from transformers import AutoTokenizer
    from hala.bench import EchoBackend, SCALE_TOKENIZER, scale_profile, scale_source
    from hala.corpus import translate_corpus
    tk = str(ROOT/SCALE_TOKENIZER)
    echo = EchoBackend(AutoTokenizer.from_pretrained(tk))
    def peak(n: int, traced: bool = True) -> int:
        d = tmp_path/str(n)
        cfg = scale_profile(d, scale_source(tmp_path/f"{n}.jsonl", n), tk, chunk_records=64, shard_size=64)
        if traced: tracemalloc.start()
        res = translate_corpus(cfg, progress=False, backend=echo)
        got = tracemalloc.get_traced_memory()[1] if traced else 0
        if traced: tracemalloc.stop()
        assert res["requests"] == n, res  # every segment of the source is one request
        return got
    peak(128, traced=False)  # first calls' one-off allocations (templates, regexes, imports) out of the way
    small, large = peak(400), peak(4000)
    assert large < 1.25 * small, f"peak traced memory {small / 2**20:.1f} MiB at 400 requests, {large / 2**20:.1f} MiB at 4,000"

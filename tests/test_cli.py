"The `hala` command as a user runs it: errors are one line with exit code 2, stages list."
import pytest
from conftest import hala

@pytest.mark.parametrize("args,needle", [
    (["reproduce", "--profile", "nope"], "unknown profile 'nope'"),
    (["reproduce", "--set", "bogus.key=1"], "unknown key 'bogus.key'"),
    (["reproduce", "--set", "seed=abc"], "seed: input should be a valid integer"),
    (["reproduce", "--stages", "42"], "unknown stage '42'"),
    (["stages", "--profile", "nope"], "unknown profile 'nope'"),
    (["bench", "generate", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["bench", "generate", "--rounds", "0"], "--rounds must be at least 1, got 0"),
    (["bench", "generate", "--profile", "paper"], "profile paper generates with ray, not transformers: `hala bench generate --vllm` times its engine"),
])
def test_bad_input_is_one_line_exit_2(args, needle):
    r = hala(*args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hala: error: ") and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr

def test_stages_lists_every_stage(roots):
    r = hala("stages", *roots[:4])
    assert r.returncode == 0, r.stderr
    rows = [l.split() for l in r.stdout.strip().splitlines()]
    assert [x[0] for x in rows][:2] == ["00_core", "01_assets"] and all(x[1] == "pending" for x in rows)

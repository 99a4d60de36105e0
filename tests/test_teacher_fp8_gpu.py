"GPU-only checks (skipped, with their reason, where there is no CUDA): FP8 GEMMs and the engine on the GPU."
import pytest, torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

def test_fp8_gemm_matches_bf16_on_the_gpu():
    from hala.teacher import fp8_gemm_bench
    rows = fp8_gemm_bench(hidden=4096, width=4096, batch_sizes=(16, 256), iters=3)
    assert all(r["rel_error"] < 0.08 for r in rows), rows

def test_engine_generates_on_the_gpu(tmp_path):
    from hala.jobs import run_job
    from hala.engine import TransformersBackend
    from hala.textgen import tiny_lm
    model, tok = tiny_lm()
    be = TransformersBackend(model.to("cuda"), tok, batch_size=8)
    reqs = [{"id": str(i), "prompt": f"Egypt {i}", "max_new_tokens": 8} for i in range(20)]
    res = run_job(reqs, tmp_path/"job", be, shard_size=8, progress=False)
    assert len(res) == 20 and all("error" not in r and r["new_tokens"] > 0 for r in res.values())

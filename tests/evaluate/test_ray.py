"""--executor ray: (model x shard) tasks on a local Ray instance with 2 CPUs give the local result."""

from __future__ import annotations

import pytest

from .conftest import class_folders

pytest.importorskip("ray")


@pytest.mark.slow
def test_ray_executor_gives_the_local_result(sample_rows, tmp_path):
    import ray

    from advisor.evaluate.run import evaluate
    from advisor.models.weights import probe_readiness

    ok, msg = probe_readiness("timm:tf_efficientnet_lite0.in1k")
    if not ok:
        pytest.skip(msg)
    data = class_folders(tmp_path / "data", sample_rows[:12], lambda r: r["wnid"])
    models = ["timm:tf_efficientnet_lite0.in1k", "timm:tf_efficientnet_lite1.in1k"]
    local = evaluate(data, models, families=["brightness"], cache_root="", shard_size=5)
    try:
        remote = evaluate(data, models, families=["brightness"], cache_root="", shard_size=5, executor="ray",
                          num_cpus=2)
    finally:
        ray.shutdown()
    assert remote.executor == "ray" and remote.images == local.images
    for a, b in zip(local.models, remote.models, strict=True):
        assert a.model_id == b.model_id and a.correct == b.correct and a.invariance == b.invariance
        for k, f in a.metrics.items():
            assert abs(f.value - b.metrics[k].value) < 1e-9 and f.n == b.metrics[k].n, k

"""Every evaluation benchmark of mmassets; the eval layer makes one asset of each."""

from mmassets.evalsets import chair, coco_karpathy, marvl, maxm, pope, vqav2, xflickrco, xgqa, xm3600, xvnli

BENCHMARKS = (
    coco_karpathy.BENCHMARK,
    xgqa.BENCHMARK,
    xvnli.BENCHMARK,
    marvl.BENCHMARK,
    xflickrco.BENCHMARK,
    xflickrco.FLICKR30K,
    xm3600.BENCHMARK,
    maxm.BENCHMARK,
    pope.BENCHMARK,
    chair.BENCHMARK,
    vqav2.BENCHMARK,
)

"""VILA's registry: the datasets as datasets_mixture.py declares them and the --data_mixture string."""

import pytest

from mmassets.vila.registry import VilaDataset, data_mixture, python_registration, registry


def test_the_registry_and_the_mixture_string():
    datasets = [VilaDataset("llava_1_5_mm_align_en", "torch", "/d/a.json", "/raw/llava_pretrain/images"),
                VilaDataset("coyo_6m", "coyo", "/d/coyo")]
    assert data_mixture(datasets) == "llava_1_5_mm_align_en+coyo_6m"
    assert registry(datasets)["datasets"][1] == {"dataset_name": "coyo_6m", "dataset_type": "coyo",
                                                 "data_path": "/d/coyo", "image_path": None}
    code = python_registration(datasets)
    assert "add_dataset(Dataset(dataset_name='coyo_6m', dataset_type='coyo', data_path='/d/coyo'))" in code
    assert "--data_mixture llava_1_5_mm_align_en+coyo_6m" in code


def test_names_vila_cannot_take_are_refused():
    with pytest.raises(ValueError, match="without '\\+'"):
        VilaDataset("a+b", "torch", "/d")
    with pytest.raises(ValueError, match="type 'webdataset'"):
        VilaDataset("a", "webdataset", "/d")
    with pytest.raises(ValueError, match="unique"):
        data_mixture([VilaDataset("a", "torch", "/d"), VilaDataset("a", "torch", "/e")])

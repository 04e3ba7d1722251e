"""ImageNet classification with Babel-ImageNet class names, raw to train. No machine translation:
each language's class names come from Babel-ImageNet (English from the class index). For each
round and each language (in order of the mT5 shares), one image per class the language names,
never reusing an image while unused ones remain → `exports/train/imagenet_classify.json` and
`imagenet_decide.json` (yes/no: "does the image show a {class}?")."""


import dagster as dg
import pandas as pd
from pydantic import Field

from mmassets.defs.common.metadata import counts_metadata
from mmassets.defs.common.raw import raw_output
from mmassets.defs.common.resources import DataFolders, LanguageMix
from mmassets.defs.common.sources import source_key
from mmassets.defs.common.train import TRAIN, publish, train_specs
from mmassets.seeding import derive_seed
from mmassets.sources import imagenet
from mmassets.tasks.classification import classify_records, decide_records, imagenet_languages, plan_images

RAW = dict(key_prefix="raw", group_name="raw", kinds={"json"}, code_version="1")


@dg.asset(name="imagenet", deps=[source_key("imagenet")], **RAW)
def raw_imagenet(context: dg.AssetExecutionContext, folders: DataFolders):
    """ImageNet-1k train: one row per class of `imagenet/imagenet_class_index.json` (index, wnid,
    English name) with the image files under `imagenet/train/<wnid>/`."""
    path = folders.raw / imagenet.CLASS_INDEX_FILE
    classes = imagenet.read_class_index(path)
    images = imagenet.list_images(folders.raw, classes["wnid"].tolist())
    classes["images"] = classes["wnid"].map(images)
    empty = classes.loc[classes["images"].map(len) == 0, "wnid"].tolist()
    if empty:
        context.log.warning(f"{len(empty)} ImageNet classes have no images under {folders.raw / imagenet.TRAIN_DIR}")
    yield raw_output(classes, path, **{"images": int(classes["images"].map(len).sum()),
                                       "classes without images": len(empty)})


@dg.asset(name="babel_imagenet", deps=[source_key("babel_imagenet")], **RAW)
def raw_babel_imagenet(context: dg.AssetExecutionContext, folders: DataFolders):
    """Babel-ImageNet class names (`babel_imagenet/babel_imagenet-298.json`): one row per language
    (Babel-ImageNet's code, lower-cased) and ImageNet class it names."""
    path = folders.raw / imagenet.BABEL_FILE
    babel = imagenet.read_babel(path)
    names = pd.DataFrame([(code, index, name) for code, table in babel.items() for index, name in table.items()],
                         columns=["language", "class_index", "name"])
    yield raw_output(names, path, languages=len(babel))


class ImageNetConfig(dg.Config):
    rounds: int = Field(default=8, ge=1, description="passes over the languages; each takes one image per named class")


TASKS = {
    "imagenet_classify": "ImageNet classification records: a short-answer \"what is the main object\" instruction "
                         "naming the language, label the class name in that language; "
                         "`exports/train/imagenet_classify.json`.",
    "imagenet_decide": "ImageNet yes/no records: \"does the image show a {class}?\" in one of several forms, label "
                       "a yes or no sentence (the negative class is never the true one), on images classification "
                       "did not use; `exports/train/imagenet_decide.json`.",
}


@dg.multi_asset(
    outs={name: dg.AssetOut(key=["train", name], group_name=TRAIN["group_name"], kinds=TRAIN["kinds"],
                            code_version="1", description=doc)
          for name, doc in TASKS.items()},
    ins={"classes": dg.AssetIn(key=["raw", "imagenet"]), "babel": dg.AssetIn(key=["raw", "babel_imagenet"])},
    check_specs=[spec for name in TASKS for spec in train_specs(name, translated=False)], can_subset=False)
def imagenet_tasks(context: dg.AssetExecutionContext, config: ImageNetConfig, folders: DataFolders,
                   mix: LanguageMix, classes: pd.DataFrame, babel: pd.DataFrame):
    """Both ImageNet tasks from one image plan, so that yes/no records get the images classification left."""
    english = dict(zip(classes["class_index"].tolist(), classes["name"].tolist()))
    names = {code: dict(zip(part["class_index"].tolist(), part["name"].tolist()))
             for code, part in babel.groupby("language", sort=False)}
    table = [(lang.code, lang.mt5_percent) for lang in mix.table.languages]
    languages, unnamed = imagenet_languages(table, names, english)
    if unnamed:
        context.log.warning(f"no Babel-ImageNet names for {', '.join(unnamed)}: left out")
    images = {int(i): list(files) for i, files in zip(classes["class_index"], classes["images"])}
    language_names = {lang.code: lang.display_name for lang in mix.table.languages}
    plan_seed = derive_seed(mix.seed, "imagenet", "plan")
    plan, plan_counts, state = plan_images(languages, images, config.rounds, plan_seed)
    classify = classify_records(plan, languages, language_names, derive_seed(mix.seed, "imagenet_classify"))
    plan, decide_counts, _ = plan_images(languages, images, config.rounds, plan_seed, state=state)
    decide = decide_records(plan, languages, derive_seed(mix.seed, "imagenet_decide"))
    shared = {"rounds": config.rounds, "languages without names": dg.MetadataValue.json(unnamed)}
    for name, built, counts in (("imagenet_classify", classify, plan_counts),
                                ("imagenet_decide", decide, decide_counts)):
        context.log.info(f"{name}: {len(built.frame):,} records over {built.frame['language'].nunique()} languages")
        yield from publish(context, folders, name, built.frame, multi_asset=True, image_root="imagenet",
                           relative_image=str, source=("imagenet", imagenet.TRAIN_DIR), metadata={
            **shared, "images": counts_metadata(counts), "skipped": counts_metadata(built.skipped)})

"""ConvLLaVA's datasets (its `llava/data/data_blending.py` names in brackets), raw → images → train,
mixed by the recipes `convllava_stage1/2/3`:

- ShareGPT4V: ShareGPT4V-PT, 1,246k Share-Captioner captions (`sharegpt4vpretrain`), and the 100k
  GPT-4V captions (`sharegpt4v100k`): images from COCO train2017, LLaVA-Pretrain (at
  `llava/llava_pretrain/images/`), SAM, and the web sets (share_textvqa, web-celebrity, web-landmark,
  wikiart);
- ALLaVA: captions and instructions of LAION and Vision-Flan images (`allava_laion_caption`,
  `allava_laion_instruct`, `allava_vflan_caption`, `allava_vflan_instruct`);
- Vision-Flan's 191 tasks × 1k (`vflan`), images relative to `vflan/images_191task_1k/`;
- LLaVA-1.5's 665k instruction mix (`llava665k`): COCO, GQA, OCR-VQA, TextVQA, VG and text-only
  ShareGPT records.

Each is a `checked_conversation_set`: `images/<name>` looks up every image its records name, reports
the missing, truncated and unreadable ones and the ones whose content is not their extension's
(OCR-VQA's GIFs named `.jpg`, converted to JPEG when `repair` is on), and `train/<name>` keeps
the records a trainer can use.
"""

from mmassets.defs.common.conversation_sets import checked_conversation_set

SHAREGPT4V = ("Download it from huggingface.co/datasets/Lin-Chen/ShareGPT4V into <raw root>/sharegpt4v/; the images "
              "as ShareGPT4V's docs/Data.md lays them out under the raw root (coco/train2017/, "
              "llava/llava_pretrain/images/, sam/images/, share_textvqa/, web-celebrity/, web-landmark/, wikiart/).")
ALLAVA = ("Download it from huggingface.co/datasets/FreedomIntelligence/ALLaVA-4V into <raw root>/allava_laion/ and "
          "<raw root>/allava_vflan/ (images unpacked to allava_laion/images/ and allava_vflan/images/).")
VFLAN = ("Download annotation_191-task_1k.json and image_191-task_1k.zip from huggingface.co/datasets/Vision-Flan/"
         "vision-flan_191-task_1k into <raw root>/vflan/ (the zip unpacked to vflan/images_191task_1k/).")
LLAVA_665K = ("Download llava_v1_5_mix665k.json from huggingface.co/datasets/liuhaotian/LLaVA-Instruct-150K into "
              "<raw root>/llava/; its images as LLaVA-1.5's README lays them out under the raw root (coco/train2017/, "
              "gqa/images/, ocr_vqa/images/, textvqa/train_images/, vg/VG_100K/, vg/VG_100K_2/).")

SETS = {
    # name: (source dataset, file under the raw root, base root, how to get it, description)
    "sharegpt4v_pt": ("sharegpt4v", "sharegpt4v/share-captioner_coco_lcs_sam_1246k_1107.json", "raw", SHAREGPT4V,
                      "ShareGPT4V-PT: 1,246k detailed captions by the Share-Captioner (ConvLLaVA's `sharegpt4vpretrain`)."),
    "sharegpt4v_cap100k": ("sharegpt4v", "sharegpt4v/sharegpt4v_instruct_gpt4-vision_cap100k.json", "raw", SHAREGPT4V,
                           "ShareGPT4V: 100k GPT-4V captions (ConvLLaVA's `sharegpt4v100k`)."),
    "allava_laion_caption": ("allava", "allava_laion/ALLaVA-Caption-LAION-4V.json", "raw", ALLAVA,
                             "ALLaVA: GPT-4V captions of LAION images (`allava_laion_caption`)."),
    "allava_laion_instruct": ("allava", "allava_laion/ALLaVA-Instruct-LAION-4V.json", "raw", ALLAVA,
                              "ALLaVA: GPT-4V instructions on LAION images (`allava_laion_instruct`)."),
    "allava_vflan_caption": ("allava", "allava_vflan/ALLaVA-Caption-VFLAN-4V.json", "raw", ALLAVA,
                             "ALLaVA: GPT-4V captions of Vision-Flan images (`allava_vflan_caption`)."),
    "allava_vflan_instruct": ("allava", "allava_vflan/ALLaVA-Instruct-VFLAN-4V.json", "raw", ALLAVA,
                              "ALLaVA: GPT-4V instructions on Vision-Flan images (`allava_vflan_instruct`)."),
    "vision_flan": ("vflan", "vflan/annotation_191-task_1k.json", "vflan", VFLAN,
                    "Vision-Flan: 191 human-labelled tasks, up to 1,000 instances each (ConvLLaVA's `vflan`)."),
    "llava_v1_5_mix665k": ("llava", "llava/llava_v1_5_mix665k.json", "raw", LLAVA_665K,
                           "LLaVA-1.5's 665k instruction-tuning mix (ConvLLaVA's `llava665k`)."),
}

assets = [asset for name, (dataset, file, base, how_to_get, description) in SETS.items()
          for asset in checked_conversation_set(name, dataset=dataset, file=file, base_root=base, language="en",
                                                how_to_get=how_to_get, description=description)]

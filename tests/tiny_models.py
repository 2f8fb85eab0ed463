"""Tiny, randomly initialised models of the real architectures, built locally for tests.

Tests never download weights: each builder here saves a few-hundred-KB model of a real
architecture (CLIP, SigLIP, a Llava-style VLM reranker) into a folder that loads through
exactly the code path a Hub id takes. Weights are seeded, so two builds give identical
models. Their scores are noise: use them for plumbing, never for relevance.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import (
        CLIPTokenizer,
        PreTrainedModel,
        PreTrainedTokenizerFast,
        ProcessorMixin,
    )

SEED = 0
IMAGE_SIZE = 32
PATCH_SIZE = 8
WORDS = ("a", "an", "the", "photo", "of", "cat", "dog", "red", "blue", "car", "yes", "no")

# Renders the `query` and `document` roles a CrossEncoder pair becomes, image parts as
# the image token, and ends with an assistant marker whose next token is scored.
RERANKER_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] }}:"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}relevant:{% endif %}"
)


def _tiny_layers(**extra: Any) -> dict[str, Any]:
    """The size settings shared by every tiny transformer stack here."""
    return {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        **extra,
    }


def _vision_config() -> dict[str, Any]:
    """A 32 px, patch-8 vision tower (16 patches)."""
    return _tiny_layers(image_size=IMAGE_SIZE, patch_size=PATCH_SIZE)


def clip_tokenizer() -> CLIPTokenizer:
    """A character-level CLIP BPE: deterministic, unlike a BPE trained on the fly."""
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPTokenizer

    alphabet = sorted(ByteLevel.alphabet())
    tokens = ["<|startoftext|>", "<|endoftext|>", *alphabet, *(c + "</w>" for c in alphabet)]
    vocab = {token: index for index, token in enumerate(tokens)}
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def build_tiny_clip(folder: Path) -> Path:
    """Save a tiny CLIP (16-d projections) that SentenceTransformer loads as text+image."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPProcessor

    tokenizer = clip_tokenizer()
    text_config = _tiny_layers(
        vocab_size=len(tokenizer),
        max_position_embeddings=77,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = CLIPConfig(text_config=text_config, vision_config=_vision_config(), projection_dim=16)
    torch.manual_seed(SEED)
    model = CLIPModel(config)
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": IMAGE_SIZE},
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
    )
    processor = CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
    return _save(folder, model, processor)


def _word_level_tokenizer() -> PreTrainedTokenizerFast:
    """A whitespace word-level tokenizer over a fixed vocabulary, for SigLIP."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import PreTrainedTokenizerFast

    tokens = ["<pad>", "<unk>", "</s>", *WORDS]
    backend = Tokenizer(WordLevel({t: i for i, t in enumerate(tokens)}, unk_token="<unk>"))
    backend.pre_tokenizer = Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        unk_token="<unk>",
        eos_token="</s>",
        model_max_length=16,
    )


def build_tiny_siglip(folder: Path) -> Path:
    """Save a tiny SigLIP (32-d) that SentenceTransformer loads as text+image."""
    import torch
    from transformers import SiglipConfig, SiglipImageProcessorPil, SiglipModel, SiglipProcessor

    tokenizer = _word_level_tokenizer()
    text_config = _tiny_layers(
        vocab_size=len(tokenizer),
        max_position_embeddings=16,
        bos_token_id=None,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    config = SiglipConfig(text_config=text_config, vision_config=_vision_config())
    torch.manual_seed(SEED)
    model = SiglipModel(config)
    image_processor = SiglipImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    processor = SiglipProcessor(image_processor=image_processor, tokenizer=tokenizer)
    return _save(folder, model, processor)


def _reranker_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE trained on a fixed corpus (so it is stable) holding "yes" and "no"."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<eos>", "<image>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = [" ".join(WORDS), "query: document: relevant: yes no", *WORDS]
    backend.train_from_iterator(corpus, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        eos_token="<eos>",
        extra_special_tokens={"image_token": "<image>"},
    )


def _single_token_id(tokenizer: PreTrainedTokenizerFast, word: str) -> int:
    """The id of ``word``, which must be one token of the vocabulary."""
    ids = tokenizer.encode(word, add_special_tokens=False)
    if len(ids) != 1:
        raise ValueError(f"{word!r} is not a single token: {ids}")
    return int(ids[0])


def build_tiny_vlm_reranker(folder: Path) -> Path:
    """Save a tiny Llava-style VLM + LogitScore("yes" vs "no") CrossEncoder into ``folder``.

    ``folder`` holds the full module chain, so ``CrossEncoder(folder)`` reloads it (the
    bare VLM folder, kept only while composing, would not build that chain).
    """
    import tempfile

    import torch
    from sentence_transformers import CrossEncoder
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.cross_encoder.modules import LogitScore
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    tokenizer = _reranker_tokenizer()
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(**_vision_config()),
        text_config=LlamaConfig(
            vocab_size=len(tokenizer),
            num_key_value_heads=2,
            max_position_embeddings=256,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            **_tiny_layers(),
        ),
        image_token_index=_single_token_id(tokenizer, "<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(SEED)
    model = LlavaForConditionalGeneration(config)
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": IMAGE_SIZE},
            crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        ),
        tokenizer=tokenizer,
        patch_size=PATCH_SIZE,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=RERANKER_CHAT_TEMPLATE,
    )
    score = LogitScore(
        true_token_id=_single_token_id(tokenizer, "yes"),
        false_token_id=_single_token_id(tokenizer, "no"),
    )
    with tempfile.TemporaryDirectory() as vlm_dir:
        _save(Path(vlm_dir), model, processor)
        transformer = Transformer(vlm_dir, transformer_task="any-to-any")
        cross_encoder = CrossEncoder(modules=[transformer, score], device="cpu")
    folder = Path(folder)
    cross_encoder.save(str(folder))
    return folder


def _save(folder: Path, model: PreTrainedModel, processor: ProcessorMixin) -> Path:
    """Save a model and its processor side by side, as a Hub repository holds them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder

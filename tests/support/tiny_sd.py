"""A tiny random Stable Diffusion 1.5-shaped pipeline (and ControlNet) for tests and benchmarks.

Same block layout as SD 1.5 (4 UNet levels, 2 layers per block, cross-attention on the first three,
a 4-level VAE so latents are 1/8 of the image, a CLIP text encoder) with tiny widths, so it loads
through the same code paths as a real checkpoint and runs a 64×64 img2img step in milliseconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

TEXT_DIM = 32


def _write_tokenizer(folder: Path) -> None:
    """A byte-level BPE vocabulary of single letters: enough for CLIP's tokenizer to run."""
    folder.mkdir(parents=True, exist_ok=True)
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    tokens = ["<|startoftext|>", "<|endoftext|>", "!", ",", "."]
    tokens += letters + [f"{letter}</w>" for letter in letters]
    (folder / "vocab.json").write_text(json.dumps({tok: i for i, tok in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    config = {
        "model_max_length": 77,
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "tokenizer_class": "CLIPTokenizer",
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def build_tiny_pipeline(folder: Path, *, seed: int = 0) -> Path:
    """Save a random SD 1.5-shaped ``StableDiffusionImg2ImgPipeline`` to ``folder`` (diffusers layout)."""
    from diffusers import (
        AutoencoderKL,
        DPMSolverMultistepScheduler,
        StableDiffusionImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 32, 64, 64),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=TEXT_DIM,
        attention_head_dim=8,
        norm_num_groups=32,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(32, 32, 64, 64),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=2,
        norm_num_groups=32,
        sample_size=64,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=64,
            hidden_size=TEXT_DIM,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    _write_tokenizer(folder / "tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer")
    scheduler = DPMSolverMultistepScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        num_train_timesteps=1000,
        steps_offset=1,
    )
    pipe = StableDiffusionImg2ImgPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        image_encoder=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def build_tiny_controlnet(pipeline_folder: Path, folder: Path, *, seed: int = 1) -> Path:
    """Save a ControlNet shaped after the tiny UNet; 4 conditioning levels match the ×8 VAE."""
    from diffusers import ControlNetModel, UNet2DConditionModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_pretrained(pipeline_folder / "unet")
    controlnet = ControlNetModel.from_unet(
        unet, conditioning_embedding_out_channels=(8, 16, 16, 32)
    )
    controlnet.save_pretrained(folder, safe_serialization=True)
    return folder


# ---- diffusers → original (LDM / A1111) single-file layout, SD 1.5 only ----


def _unet_key_map() -> list[tuple[str, str]]:
    """(diffusers prefix, LDM prefix) pairs for the SD 1.5 UNet block layout."""
    pairs = [
        ("time_embedding.linear_1.", "time_embed.0."),
        ("time_embedding.linear_2.", "time_embed.2."),
        ("conv_in.", "input_blocks.0.0."),
        ("conv_norm_out.", "out.0."),
        ("conv_out.", "out.2."),
        ("mid_block.attentions.0.", "middle_block.1."),
        ("mid_block.resnets.0.", "middle_block.0."),
        ("mid_block.resnets.1.", "middle_block.2."),
    ]
    for level in range(4):
        for layer in range(2):
            block = 3 * level + layer + 1
            pairs.append((f"down_blocks.{level}.resnets.{layer}.", f"input_blocks.{block}.0."))
            if level < 3:
                pairs.append(
                    (f"down_blocks.{level}.attentions.{layer}.", f"input_blocks.{block}.1.")
                )
        for layer in range(3):
            block = 3 * level + layer
            pairs.append((f"up_blocks.{level}.resnets.{layer}.", f"output_blocks.{block}.0."))
            if level > 0:
                pairs.append(
                    (f"up_blocks.{level}.attentions.{layer}.", f"output_blocks.{block}.1.")
                )
        if level < 3:
            pairs.append(
                (
                    f"down_blocks.{level}.downsamplers.0.conv.",
                    f"input_blocks.{3 * (level + 1)}.0.op.",
                )
            )
            up_index = 1 if level == 0 else 2
            pairs.append(
                (f"up_blocks.{level}.upsamplers.0.", f"output_blocks.{3 * level + 2}.{up_index}.")
            )
    return pairs


_RESNET_PARTS = [
    ("norm1", "in_layers.0"),
    ("conv1", "in_layers.2"),
    ("norm2", "out_layers.0"),
    ("conv2", "out_layers.3"),
    ("time_emb_proj", "emb_layers.1"),
    ("conv_shortcut", "skip_connection"),
]


def _rename(key: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        if key.startswith(old):
            return new + key[len(old) :]
    return key


def _unet_to_ldm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    pairs = _unet_key_map()
    out = {}
    for key, value in state.items():
        new = _rename(key, pairs)
        if ".resnets." in key:
            for old, ldm in _RESNET_PARTS:
                new = new.replace(f".{old}.", f".{ldm}.")
        out[f"model.diffusion_model.{new}"] = value
    return out


def _vae_to_ldm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    pairs: list[tuple[str, str]] = []
    for part in ("encoder", "decoder"):
        pairs.append((f"{part}.mid_block.attentions.0.", f"{part}.mid.attn_1."))
        pairs += [
            (f"{part}.mid_block.resnets.{i}.", f"{part}.mid.block_{i + 1}.") for i in range(2)
        ]
        pairs.append((f"{part}.conv_norm_out.", f"{part}.norm_out."))
    for level in range(4):
        pairs += [
            (f"encoder.down_blocks.{level}.resnets.{j}.", f"encoder.down.{level}.block.{j}.")
            for j in range(2)
        ]
        pairs += [
            (f"decoder.up_blocks.{level}.resnets.{j}.", f"decoder.up.{3 - level}.block.{j}.")
            for j in range(3)
        ]
        pairs.append(
            (f"encoder.down_blocks.{level}.downsamplers.0.", f"encoder.down.{level}.downsample.")
        )
        pairs.append(
            (f"decoder.up_blocks.{level}.upsamplers.0.", f"decoder.up.{3 - level}.upsample.")
        )
    attn_parts = [
        ("group_norm.", "norm."),
        ("to_q.", "q."),
        ("to_k.", "k."),
        ("to_v.", "v."),
        ("to_out.0.", "proj_out."),
    ]
    out = {}
    for key, value in state.items():
        new = _rename(key, pairs).replace("conv_shortcut", "nin_shortcut")
        if ".attn_1." in new:
            head, tail = new.split(".attn_1.")
            tail = _rename(tail, attn_parts)
            new = f"{head}.attn_1.{tail}"
            if value.ndim == 2:  # linear in diffusers, 1×1 conv in LDM
                value = value[:, :, None, None]
        out[f"first_stage_model.{new}"] = value
    return out


def export_single_file(pipeline_folder: Path, path: Path) -> Path:
    """Write the tiny pipeline as one original-layout ``.safetensors`` checkpoint (like civitai files)."""
    from safetensors.torch import load_file, save_file

    unet = load_file(pipeline_folder / "unet" / "diffusion_pytorch_model.safetensors")
    vae = load_file(pipeline_folder / "vae" / "diffusion_pytorch_model.safetensors")
    text = load_file(pipeline_folder / "text_encoder" / "model.safetensors")
    state = {**_unet_to_ldm(unet), **_vae_to_ldm(vae)}
    # transformers 5 saves CLIP without the ``text_model.`` prefix that original checkpoints carry.
    text = {k if k.startswith("text_model.") else f"text_model.{k}": v for k, v in text.items()}
    state.update({f"cond_stage_model.transformer.{k}": v for k, v in text.items()})
    save_file({k: v.contiguous() for k, v in state.items()}, path)
    return path

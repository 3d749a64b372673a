"""The refine server's settings: read once from the environment and `.env`, then passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pixelpainter_common.discovery import is_loopback, token_problem
from pixelpainter_common.settings_values import check_url, split_ids
from refine_server import MODEL_NAMES

IdList = Annotated[list[int], NoDecode]

DEFAULT_BALANCED = "xyn-ai/anything-v4.0"
# The author's own release of Counterfeit-V3.0 is a single original-layout checkpoint; it loads
# with `from_single_file` and the SD 1.5 configs of `SINGLE_FILE_CONFIG`.
DEFAULT_QUALITY = "gsdf/Counterfeit-V3.0/Counterfeit-V3.0_fp16.safetensors"
DEFAULT_SINGLE_FILE_CONFIG = "stable-diffusion-v1-5/stable-diffusion-v1-5"

TOKEN_HOWTO = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


class Settings(BaseSettings):
    """Everything the refine server reads (design.md names, plus refine-only extras)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    # ---- HTTP ----
    refine_token: SecretStr = SecretStr("")
    # Empty: 127.0.0.1 behind a tunnel (ngrok connects to loopback), else 0.0.0.0.
    refine_host: str | None = None
    refine_port: int = Field(default=5000, ge=0, le=65535)
    # Run without REFINE_TOKEN; honoured only when REFINE_HOST is a loopback address.
    refine_allow_open: bool = False
    max_upload_mb: float = Field(default=20.0, gt=0)
    max_image_pixels: int = Field(default=4096 * 4096, ge=64 * 64)

    # ---- models ----
    model_balanced: str = DEFAULT_BALANCED
    model_quality: str = DEFAULT_QUALITY
    controlnet_model: str | None = None
    single_file_config: str = DEFAULT_SINGLE_FILE_CONFIG
    models_dir: Path = Path("./models")
    device: Literal["auto", "cuda", "cpu"] = "auto"
    cpu_offload: bool = False
    vae_tiling: bool = False

    # ---- refinement ----
    # At most 100: at strength 0.1 that schedules the scheduler's whole 1,000 timesteps.
    steps_balanced: int = Field(default=20, ge=1, le=100)
    steps_quality: int = Field(default=30, ge=1, le=100)
    guidance_scale: float = Field(default=7.0, ge=1.0, le=30.0)
    controlnet_scale: float = Field(default=0.8, ge=0.0, le=2.0)
    # Working resolution: the long side is brought into [min, max] (SD 1.5 is trained at 512).
    refine_min_side: int = Field(default=512, ge=64)
    refine_max_side: int = Field(default=768, ge=64)
    color_match: bool = True

    # ---- one GPU, many callers ----
    queue_size: int = Field(default=8, ge=1)
    request_timeout_s: float = Field(default=300.0, gt=0)

    # ---- reachable and announced ----
    tunnel: Literal["ngrok", "none"] = "ngrok"
    ngrok_authtoken: SecretStr = SecretStr("")
    ngrok_path: Path | None = None  # empty: pyngrok's default (downloaded on first use)
    ngrok_config: Path | None = None  # empty: ngrok's default ngrok.yml
    public_url: str | None = None
    npoint_bin_id: str = ""
    npoint_api_base: str = "https://api.npoint.io"
    telegram_bot_token: SecretStr = SecretStr("")
    telegram_api_base: str = "https://api.telegram.org"
    admin_chat_ids: IdList = Field(default_factory=list)
    announce_attempts: int = Field(default=4, ge=1)
    announce_backoff_s: float = Field(default=2.0, ge=0)

    log_level: str = "INFO"

    @field_validator("admin_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        return split_ids(value)

    @field_validator("npoint_api_base", "telegram_api_base", "public_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return check_url(value)

    @model_validator(mode="after")
    def _check_sides(self) -> Settings:
        if self.refine_min_side > self.refine_max_side:
            raise ValueError("REFINE_MIN_SIDE must not exceed REFINE_MAX_SIDE")
        return self

    @property
    def host(self) -> str:
        """The address to bind: ``REFINE_HOST``, else loopback when tunnelled, else all."""
        if self.refine_host:
            return self.refine_host
        return "127.0.0.1" if self.tunnel == "ngrok" else "0.0.0.0"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def models(self) -> dict[str, str]:
        """Model name → source, in the order clients see them; an empty source disables a model."""
        sources = {name: getattr(self, f"model_{name}") for name in MODEL_NAMES}
        return {name: source for name, source in sources.items() if source.strip()}

    def steps(self, model: str) -> int:
        """Denoising steps of ``model`` (``STEPS_<NAME>``)."""
        return getattr(self, f"steps_{model}")

    @property
    def secrets(self) -> list[str]:
        """The secret values that must never reach a log line or the public document."""
        values = [self.refine_token, self.ngrok_authtoken, self.telegram_bot_token]
        return [v.get_secret_value() for v in values if v.get_secret_value()]

    def check_auth(self) -> None:
        """Raise ``ValueError`` unless a strong token is set or running open on loopback was asked for."""
        token = self.refine_token.get_secret_value()
        if token:
            problem = token_problem(token)
            if problem is not None:
                raise ValueError(f"{problem}: set a long random string ({TOKEN_HOWTO})")
            return
        if not self.refine_allow_open:
            raise ValueError(
                "REFINE_TOKEN is not set. Set it to a long random string shared with the bot "
                "(or REFINE_ALLOW_OPEN=true with REFINE_HOST=127.0.0.1 for local experiments)."
            )
        if not is_loopback(self.host):
            raise ValueError(
                f"REFINE_ALLOW_OPEN only works on a loopback REFINE_HOST, not {self.host!r}."
            )
        if self.tunnel != "none":
            raise ValueError(
                "REFINE_ALLOW_OPEN needs TUNNEL=none: a tunnel would publish an open server."
            )

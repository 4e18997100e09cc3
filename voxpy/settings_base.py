"""What every settings section shares: a frozen, extra-forbidding base and the field types
that read TOML and environment values ("" means "not set": TOML has no null and environment
variables are strings). Apart so that sections kept in their own modules
(:mod:`voxpy.settings_journal`) use the same ones as :mod:`voxpy.settings`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def empty_to_none(value: Any) -> Any:
    """TOML has no null and env vars are strings: "" means "not set"."""
    return None if isinstance(value, str) and not value.strip() else value


OptionalStr = Annotated[str | None, BeforeValidator(empty_to_none)]

PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]

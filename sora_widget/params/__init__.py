"""The one place that knows what each model accepts: the catalogue (data), the request
value every layer passes, and what the widget's controls offer.

- `catalogue`: the models — their fields, prices, typical latency, sound.
- `request`: `validate(...)` → a frozen `Request` (`GenerationParams` is its first name);
  `Request.derive(...)` for the next shot.
- `references`: the images a request names.
- `view`: `view_options()`, the widget's `options` trait.

The client validates with it before any request, the emulator answers 400 with it, and
the widget's controls are built from it — so a new model, size or duration is added here
and nowhere else.
"""

from .catalogue import (
    COMMON_FIELDS,
    DEFAULT_MODEL,
    MODEL,
    MODELS,
    PRICE_SOURCE,
    PRICES_AS_OF,
    READ_ON,
    Choice,
    Field,
    Model,
    Price,
    price_key,
    typical_latency_s,
    with_field,
)
from .references import (
    IMAGE_TYPES,
    MAX_REFERENCE_BYTES,
    ReferenceKind,
    decode_data_uri,
    reference_kind,
    validate_reference,
)
from .request import (
    DEFAULT_DURATION,
    DEFAULT_SIZE,
    DEFAULT_TIMEOUT_S,
    DURATIONS,
    MAX_PROMPT_CHARS,
    PRIOR_LATENCY_S,
    SIZES,
    GenerationParams,
    Request,
    clip_price,
    from_payload,
    validate,
    validate_draft,
    validate_duration,
    validate_model,
    validate_preferring,
    validate_prompt,
    validate_size,
)
from .view import view_options

__all__ = [
    "COMMON_FIELDS",
    "DEFAULT_DURATION",
    "DEFAULT_MODEL",
    "DEFAULT_SIZE",
    "DEFAULT_TIMEOUT_S",
    "DURATIONS",
    "IMAGE_TYPES",
    "MAX_PROMPT_CHARS",
    "MAX_REFERENCE_BYTES",
    "MODEL",
    "MODELS",
    "PRICES_AS_OF",
    "PRICE_SOURCE",
    "PRIOR_LATENCY_S",
    "READ_ON",
    "SIZES",
    "Choice",
    "Field",
    "GenerationParams",
    "Model",
    "Price",
    "ReferenceKind",
    "Request",
    "clip_price",
    "decode_data_uri",
    "from_payload",
    "price_key",
    "reference_kind",
    "typical_latency_s",
    "validate",
    "validate_draft",
    "validate_duration",
    "validate_model",
    "validate_preferring",
    "validate_prompt",
    "validate_reference",
    "validate_size",
    "view_options",
    "with_field",
]

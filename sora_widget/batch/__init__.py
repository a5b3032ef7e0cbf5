"""Many clips in one call: `generate_many` / `agenerate_many`.

`items` turns what the user passed into validated parameters and the ids that name
them; `plan` decides, from what the ledger knows, what each item needs (pure); `run`
does it; `tally` counts where a batch stands; `view` shows it (a `BatchView` in a
notebook, a text bar in a terminal).
"""

from .run import Batch, agenerate_many, generate_many

__all__ = ["Batch", "agenerate_many", "generate_many"]

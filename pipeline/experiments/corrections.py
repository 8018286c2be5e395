"""Multiple-comparison corrections of an experiment's p-values (its variants x metrics).

* **Holm-Bonferroni** (``holm``, controls the family-wise error rate): with the m p-values sorted
  ascending p(1) <= ... <= p(m), the adjusted p(i) is max over j <= i of min(1, (m - j + 1) p(j)).
* **Benjamini-Hochberg** (``bh``, controls the false discovery rate): the adjusted p(i) is min over
  j >= i of min(1, m p(j) / j).
* ``none``: the p-values as they are.

A NaN p-value (an undefined test) stays NaN and is not counted in m. Equal to statsmodels'
``multipletests`` (methods ``holm`` and ``fdr_bh``) in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

Correction = Literal["holm", "bh", "none"]


def adjust(p_values: Sequence[float], method: Correction) -> list[float]:
    """The adjusted p-values, in the order given."""
    defined = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    out = [float("nan")] * len(p_values)
    m = len(defined)
    if method == "none":
        return [float(p) for p in p_values]
    if method == "holm":
        running = 0.0
        for rank, (p, i) in enumerate(defined):
            running = max(running, min(1.0, (m - rank) * p))
            out[i] = running
    else:
        running = 1.0
        for rank in range(m - 1, -1, -1):
            p, i = defined[rank]
            running = min(running, m * p / (rank + 1))
            out[i] = running
    return out

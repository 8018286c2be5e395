"""A recommender's training reads only the rows it uses: the customers kept by the split, by
max_training_rows and by max_held_out_rows, decided from the customer list before any row is read;
it gives the model that training on every candidate row would."""

from __future__ import annotations

import numpy as np

from pipeline.core.warehouse import connect
from pipeline.models import recommend, training
from pipeline.models.train import UNUSED, customer_split, cut
from pipeline.models.types.base import Prepared
from tests.assets.models.conftest import LAST


def every_row(con, config, spec, window) -> Prepared:
    """The training frame of every candidate row, labelled and weighted by pandas merges: what the
    recommender read before it read only the rows its training uses."""
    cands = recommend.candidates(con, config, spec, window.cutoff)
    took = recommend.taken(con, config, spec, window)
    keys = ["customer_id", "item"]
    marked = cands[keys].merge(took.assign(_took=1), on=keys, how="left")
    return Prepared(
        window,
        cands["customer_id"].to_numpy(),
        cands[recommend.FEATURES].astype(float),
        marked["_took"].fillna(0).to_numpy(dtype=np.int32),
        cands,
        took,
        marked["weight"].fillna(1.0).to_numpy(dtype=float),
    )


def test_a_capped_recommender_reads_only_its_customers_rows_and_trains_the_same_model(world):
    config, _ = world
    spec = config.model("product_recommender").model_copy(
        update={"max_training_rows": 3000, "max_held_out_rows": 2000}
    )
    with connect(config.warehouse_path, read_only=True) as con:
        prepared = training.prepare(con, config, spec, LAST)
        full = every_row(con, config, spec, prepared.window)
    customers = np.unique(full.ids)
    items = len(full.ids) // len(customers)  # every customer has a row per item of the history
    parts = cut(  # the caps as training applied them to every row
        customer_split(spec, customers, False)[0][np.searchsorted(customers, full.ids)], full.ids, spec
    )
    used = np.unique(full.ids[parts != UNUSED])
    # only the kept customers' rows were read, all of them, in the same order with the same values
    assert np.array_equal(prepared.customers, customers)
    assert np.array_equal(np.unique(prepared.ids), used)
    assert len(prepared.ids) == len(used) * items < len(full.ids) // 2
    kept = np.isin(full.ids, used)
    assert np.array_equal(prepared.ids, full.ids[kept])
    assert np.array_equal(prepared.X.to_numpy(), full.X.to_numpy()[kept], equal_nan=True)
    assert np.array_equal(prepared.y, full.y[kept]) and np.array_equal(prepared.weight, full.weight[kept])
    assert prepared.positives == int(full.y.sum()) > 0
    new, old = training.train(prepared, spec, draw=False), training.train(full, spec, draw=False)
    assert new.metrics["training_rows"] <= spec.max_training_rows
    assert new.metrics["test_customers"] <= 2000 and new.metrics["precision_at_k"] > 0
    assert new.booster is not None and old.booster is not None
    assert new.booster.model_to_string() == old.booster.model_to_string()
    assert new.metrics == old.metrics
    assert (new.customers, new.positives) == (old.customers, old.positives)
    assert new.impact.equals(old.impact)

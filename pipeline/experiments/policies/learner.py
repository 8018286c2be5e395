"""Uplift learners on LightGBM: a cross-fitted T-learner (one conversion model per arm, control and each
variant) and a pooled model over every arm (:class:`PooledLearner`, the uplift policy's).

Cross-fitting: the rows are split in ``folds``; each fold's models are trained on the other folds,
so a learned row's rates come from models that never saw it (:attr:`TLearner.out_of_fold`), and a
new customer's rates are the average of the fold models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # lightgbm is imported where a model is trained or loaded
    import lightgbm as lgb

PARAMS = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 7,
    "deterministic": True,
    "num_threads": 1,
    "verbose": -1,
}
ROUNDS = 100
POOLED_ROUNDS = 300  # one model for every arm: more rounds to find the arm's interactions


def min_data_in_leaf(rows: int) -> int:
    """Leaves of at least 2% of an arm's rows (20 to 200): a conversion rate difference of a few
    points is noise in a smaller leaf (measured on the demo world: bench/decisions.py)."""
    return int(np.clip(rows // 50, 20, 200))


@dataclass
class TLearner:
    arms: int
    folds: int = 3
    seed: int = 0
    models: list[list[lgb.Booster | float]] = field(default_factory=list)
    out_of_fold: np.ndarray | None = None

    def _fit_one(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> lgb.Booster | float:
        if len(y) < 50 or y.min() == y.max():  # too little to learn: the posterior mean rate
            return float(((w * y).sum() + 1) / (w.sum() + 2))
        import lightgbm as lgb

        params = {**PARAMS, "seed": self.seed, "min_data_in_leaf": min_data_in_leaf(len(y))}
        return lgb.train(params, lgb.Dataset(x, y, weight=w), num_boost_round=ROUNDS)

    @staticmethod
    def _rate(model: lgb.Booster | float, x: np.ndarray) -> np.ndarray:
        if isinstance(model, float):
            return np.full(len(x), model)
        return np.asarray(model.predict(x))

    def fit(
        self, x: np.ndarray, arm: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
    ) -> TLearner:
        """``arm``: 0 for control, 1.. for the variants; ``y``: converted (0/1); ``weight``: each
        row's (policies.seen_weights; 1 when None)."""
        w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
        fold = np.random.default_rng(self.seed).integers(0, self.folds, len(y))
        self.models = []
        self.out_of_fold = np.zeros((len(y), self.arms))
        for f in range(self.folds):
            train, held = fold != f, fold == f
            row = [
                self._fit_one(x[train & (arm == a)], y[train & (arm == a)], w[train & (arm == a)])
                for a in range(self.arms)
            ]
            self.models.append(row)
            for a, m in enumerate(row):
                self.out_of_fold[held, a] = self._rate(m, x[held])
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Rates per row and arm (column 0: control), averaged over the fold models."""
        return np.mean([[self._rate(m, x) for m in row] for row in self.models], axis=0).T


@dataclass
class PooledLearner:
    """One cross-fitted LightGBM over the features and the arm (a categorical feature): an S-learner.

    Every arm learns from every row what the arms share (the customer's base rate), and the trees
    split on the arm where the effects differ; the rate of an arm for a customer is the model's
    prediction with that arm. The T-learner's no-treatment model sees only the control group (a tenth
    of the decisions), so its uplifts are the difference of two noisy rates: on the demo world the
    pooled model chooses better from the first few thousand decisions on (bench/decisions.py).
    Same interface as :class:`TLearner` (``out_of_fold``, ``predict``).
    """

    arms: int
    folds: int = 3
    seed: int = 0
    models: list[lgb.Booster | np.ndarray] = field(default_factory=list)
    out_of_fold: np.ndarray | None = None

    def _fit_one(
        self, x: np.ndarray, arm: np.ndarray, y: np.ndarray, w: np.ndarray
    ) -> lgb.Booster | np.ndarray:
        counts = np.bincount(arm, weights=w, minlength=self.arms)
        if len(y) < 50 or y.min() == y.max():  # too little to learn: each arm's posterior mean rate
            return (np.bincount(arm, weights=w * y, minlength=self.arms) + 1) / (counts + 2)
        import lightgbm as lgb

        params = {**PARAMS, "seed": self.seed, "min_data_in_leaf": min_data_in_leaf(len(y))}
        data = lgb.Dataset(np.column_stack([x, arm]), y, weight=w, categorical_feature=[x.shape[1]])
        return lgb.train(params, data, num_boost_round=POOLED_ROUNDS)

    def _rates(self, model: lgb.Booster | np.ndarray, x: np.ndarray) -> np.ndarray:
        """Rows x arms: the model's rate of each arm for each row."""
        if isinstance(model, np.ndarray):
            return np.tile(model, (len(x), 1))
        return np.column_stack(
            [model.predict(np.column_stack([x, np.full(len(x), a)])) for a in range(self.arms)]
        )

    def fit(
        self, x: np.ndarray, arm: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
    ) -> PooledLearner:
        """``arm``: 0 for control, 1.. for the variants; ``y``: converted (0/1); ``weight``: each row's
        (1 when None). ``folds=1``: one model on every row and no ``out_of_fold`` (what a policy
        needs to score new decisions)."""
        w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=float)
        if self.folds == 1:
            self.models, self.out_of_fold = [self._fit_one(x, arm, y, w)], None
            return self
        fold = np.random.default_rng(self.seed).integers(0, self.folds, len(y))
        self.models = []
        self.out_of_fold = np.zeros((len(y), self.arms))
        for f in range(self.folds):
            train, held = fold != f, fold == f
            model = self._fit_one(x[train], arm[train], y[train], w[train])
            self.models.append(model)
            self.out_of_fold[held] = self._rates(model, x[held])
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Rates per row and arm (column 0: control), averaged over the fold models."""
        return np.mean([self._rates(m, x) for m in self.models], axis=0)


def qini_coefficient(score: np.ndarray, treated: np.ndarray, y: np.ndarray) -> float:
    """Area between the Qini curve of ``score`` and random targeting, normalised by the data's total
    incremental conversions (positive: the ranking finds the responders)."""
    order = np.argsort(-score, kind="stable")
    t, yy = treated[order].astype(float), y[order].astype(float)
    nt, nc = np.cumsum(t), np.cumsum(1 - t)
    yt, yc = np.cumsum(yy * t), np.cumsum(yy * (1 - t))
    curve = yt - np.divide(yc * nt, nc, out=np.zeros_like(yc), where=nc > 0)
    total = curve[-1]
    random = total * np.arange(1, len(y) + 1) / len(y)
    return float((curve - random).mean() / abs(total)) if total else 0.0

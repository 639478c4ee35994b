"""Per-operation latency models of the NB201 cell, and latency-aware DARTS on the supernet.

**The latency model.** :func:`fit_latency_model` fits, by ordinary least squares on every
row of a table's ``latency/<device>`` column (all 15,625 cells of ``nb201``; rows with a
missing value are left out), the additive model

    latency(cell) = b + sum_e w[e, op_e]        (ms; 6 edges, ``w[e, "none"] = 0``)

with one weight per edge and operation, ``none`` being each edge's reference (25 unknowns,
full rank on the full factorial design). Rows are read through the public table API only
(:func:`benchlab.ext.open_table`); the row of a cell is its benchlab id (base 5, edge
``1<-0`` most significant, op ids in :data:`NB201_OPS` order), which the table's
``meta.json`` states in ``row_order``. Only the latency column is read: it is a property
of the network, not of its training, so a search may see it.

The fit is good on GPUs, FPGA and Eyeriss and weaker on phones and CPUs (measured with
``benchlab.nn.fit_latency_model`` on the ``nb201`` table built from the public files):
R^2 = 1.000 (1080ti_256, 2080ti_256, eyeriss, fpga, titan_rtx_256), 0.999 (titanxp_256),
0.995 (titanx_256), 0.994 (titan_rtx_32), 0.991 (1080ti_1), 0.989 (silver_4210r), 0.987
(2080ti_32), 0.982 (titanx_1, titanx_32), 0.978 (gold_6226), 0.972 (titanxp_32), 0.969
(titanxp_1), 0.962 (titan_rtx_1), 0.960 (1080ti_32), 0.946 (2080ti_1), 0.933 (silver_4114),
0.919 (samsung_a50), 0.909 (gold_6240), 0.905 (raspi4), 0.894 (pixel3; RMSE 2.04 ms on a
mean of 11.2 ms), 0.859 (essential_ph_1), 0.798 (samsung_s7), 0.797 (pixel2), 0.792
(i7-7820x, on its 15,284 rows with a value).
What it misses is mostly interaction: e.g. a cell whose output is cut off from its input
by ``none`` edges runs in microseconds on the HELP devices, far below any additive sum.

**Latency-aware DARTS** (:class:`DartsLatencySearch`): first-order DARTS (the NB201
DARTS-V1 loop of :mod:`benchlab.nn._darts`) whose architecture step minimises

    L_val(w, alpha) + lambda * (E[LAT](alpha) - T) / T,
    E[LAT] = b + sum_e sum_o softmax(alpha_e)_o w[e, o]

the additive form of ProxylessNAS (Cai, Zhu & Han, ICLR 2019, section 3.3:
``Loss = Loss_CE + lambda_2 E[LAT]`` with ``E[LAT]`` the probability-weighted sum of a
per-op latency lookup table), normalised by a reference latency ``T`` as the official
code's ``add#linear`` regulariser (``lambda * (expected - ref) / ref``, default lambda
0.1), on DARTS's softmax relaxation (Liu et al., ICLR 2019). ``T`` is ``latency_target``
(ms) or, without one, the model's mean latency over all 15,625 cells, so ``lambda`` means
the same on a 3 ms FPGA and a 27 ms Raspberry Pi. The additive form keeps the penalty's
gradient ``lambda / T * softmax(alpha_e)_o (w[e,o] - E_e[w])`` independent of the accuracy
term, which FBNet's multiplicative ``CE * a * log(LAT)^b`` (Wu et al., CVPR 2019)
does not. With ``latency_hinge`` only the excess counts, ``lambda * max(E[LAT] - T, 0) / T``.
The weights never see the latency term (it does not depend on them).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from benchlab import DataError, InvalidConfig
from benchlab.ext import open_table

from ._darts import DartsSearch
from ._flops import NB201_OPS, nb201_arch

__all__ = ["DartsLatencySearch", "LatencyModel", "fit_latency_model", "latency_devices"]

_N_EDGES, _N_OPS = 6, len(NB201_OPS)
_ROW_ORDER = "benchlab id (base-5, edge 1<-0 most significant)"


def latency_devices(table: str = "nb201") -> list[str]:
    """The devices of ``table``'s ``latency/<device>`` columns (the table must be built)."""
    return sorted(c.split("/", 1)[1] for c in open_table(table).columns if c.startswith("latency/"))


def _column(device: str) -> str:
    if not isinstance(device, str) or not device.strip("/") or device.count("/") > 1:
        raise InvalidConfig(f"latency device must be a device name such as 'pixel3' (or 'latency/pixel3'), got {device!r}")
    return device if device.startswith("latency/") else f"latency/{device}"


def cell_ops(rows: np.ndarray) -> np.ndarray:
    """Op ids (rows x 6, :data:`NB201_OPS` order) of the cells in the given table rows."""
    rows = np.asarray(rows, dtype=np.int64)
    return np.stack([(rows // _N_OPS ** (_N_EDGES - 1 - e)) % _N_OPS for e in range(_N_EDGES)], axis=1)


@dataclasses.dataclass(frozen=True)
class LatencyModel:
    """An additive per-edge, per-op latency model of the NB201 cell (see the module docstring).

    ``bias`` and ``weights`` (6 edges x 5 ops in :data:`NB201_OPS` order, ``none`` = 0) are
    in milliseconds; ``r2`` and ``rmse`` (ms) describe the least-squares fit on ``n_rows``
    rows of ``table``'s ``column``.
    """

    table: str
    column: str
    bias: float
    weights: tuple
    r2: float
    rmse: float
    n_rows: int

    @property
    def device(self) -> str:
        return self.column.split("/", 1)[1]

    def predict(self, cell) -> float:
        """Predicted latency (ms) of a cell given as 6 op names or op ids."""
        ops = nb201_arch(cell)
        return self.bias + sum(self.weights[e][op] for e, op in enumerate(ops))

    @property
    def mean(self) -> float:
        """Mean predicted latency (ms) over all 15,625 cells: every op equally likely per edge."""
        return self.bias + sum(sum(row) / len(row) for row in self.weights)

    def expected(self, probs) -> float:
        """Expected latency (ms) when edge ``e`` runs op ``o`` with probability ``probs[e][o]``."""
        p = np.asarray(probs, dtype=np.float64)
        if p.shape != (_N_EDGES, _N_OPS):
            raise InvalidConfig(f"probs must be 6 edges x 5 ops, got shape {p.shape}")
        return float(self.bias + (p * np.asarray(self.weights)).sum())


def fit_latency_model(device: str = "pixel3", table: str = "nb201") -> LatencyModel:
    """Fit the additive latency model of ``latency/<device>`` of ``table`` by least squares.

    ``device`` is a device of the table (``benchlab data info nb201`` lists them; e.g.
    ``pixel3``, ``raspi4``, ``1080ti_32``) or the full column name. Raises
    :class:`~benchlab.InvalidConfig` for an unknown device and :class:`~benchlab.DataError`
    for a table that is not built or whose rows are not the NB201 cells in benchlab id order.
    """
    column = _column(device)
    t = open_table(table)
    if column not in t.columns:
        have = ", ".join(sorted(c.split("/", 1)[1] for c in t.columns if c.startswith("latency/"))) or "none"
        raise InvalidConfig(f"table {table!r} has no column {column!r}; its latency devices: {have}")
    meta = t.meta
    if t.n_rows != _N_OPS**_N_EDGES or meta.get("space") != "nb201" or not str(meta.get("row_order", "")).startswith(_ROW_ORDER):
        raise DataError(
            f"table {table!r} does not hold the 15,625 NB201 cells in benchlab id order (meta.json space "
            f"{meta.get('space')!r}, row_order {meta.get('row_order')!r}); use the `nb201` table "
            "(`benchlab data build nb201 --source DIR`)"
        )
    y = np.asarray(t.column(column), dtype=np.float64)
    ok = np.isfinite(y)
    n = int(ok.sum())
    if n < 2 * (1 + _N_EDGES * (_N_OPS - 1)):
        raise DataError(f"table {table!r}: column {column!r} has only {n} finite values; rebuild the table")
    ops = cell_ops(np.flatnonzero(ok))
    design = np.zeros((n, 1 + _N_EDGES * (_N_OPS - 1)))
    design[:, 0] = 1.0
    for e in range(_N_EDGES):
        nz = ops[:, e] > 0  # 'none' is the reference op of every edge
        design[np.flatnonzero(nz), 1 + e * (_N_OPS - 1) + ops[nz, e] - 1] = 1.0
    coef = np.linalg.lstsq(design, y[ok], rcond=None)[0]
    resid = y[ok] - design @ coef
    tot = float(((y[ok] - y[ok].mean()) ** 2).sum())
    weights = tuple(
        tuple([0.0] + [float(v) for v in coef[1 + e * (_N_OPS - 1) : 1 + (e + 1) * (_N_OPS - 1)]]) for e in range(_N_EDGES)
    )
    return LatencyModel(
        table=table,
        column=column,
        bias=float(coef[0]),
        weights=weights,
        r2=1.0 - float((resid**2).sum()) / tot if tot > 0 else 1.0,
        rmse=float(np.sqrt((resid**2).mean())),
        n_rows=n,
    )


class DartsLatencySearch(DartsSearch):
    """First-order DARTS with ProxylessNAS's additive expected-latency penalty (module docstring).

    ``params`` adds ``latency_device``, ``latency_table``, ``latency_weight`` (lambda),
    ``latency_target`` (T in ms, or None for the model's mean latency) and
    ``latency_hinge`` to DARTS-V1's.
    """

    def _build(self) -> None:
        import torch

        super()._build()
        self.latency = fit_latency_model(self.p["latency_device"], self.p["latency_table"])
        target = self.p.get("latency_target")
        self.reference_ms = float(target) if target is not None else self.latency.mean
        if not self.reference_ms > 0:
            raise InvalidConfig(f"latency reference {self.reference_ms!r} ms is not positive; give latency_target > 0")
        self._w = torch.tensor(self.latency.weights, dtype=torch.float32)

    def expected_latency(self):
        """E[LAT] (ms) under softmax(alpha), differentiable in alpha."""
        w = self._w.to(self.model.alpha.device)
        return self.latency.bias + (self.model.alpha.softmax(dim=-1) * w).sum()

    def _penalty(self):
        excess = (self.expected_latency() - self.reference_ms) / self.reference_ms
        if self.p.get("latency_hinge"):
            excess = excess.clamp(min=0.0)
        return float(self.p["latency_weight"]) * excess

    def _step(self) -> None:
        xt, yt = self.train_batch()
        xv, yv = self.valid_batch()
        self.weight_step(lambda: self._loss(xt, yt))
        self.model.train()
        self.a_optimizer.zero_grad(set_to_none=True)
        (self._loss(xv, yv) + self._penalty()).backward()
        self.a_optimizer.step()

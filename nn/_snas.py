"""SNAS on the NB201 supernet (Xie, Zheng, Liu & Lin, "SNAS: Stochastic Neural Architecture
Search", ICLR 2019).

**Concrete relaxation.** Every forward draws one sample per edge of the concrete (Gumbel-
softmax) distribution of the one-hot op choice, ``Z_e = softmax((log pi_e + G_e) / tau)``
with ``pi_e = softmax(alpha_e)`` and ``G`` standard Gumbel noise (one sample per batch,
shared by all cells, as the official code's default ``--nsample 1``), and each
edge returns ``sum_o Z_e,o * op_o(x)``: every op runs, weighted by the *soft* sample (not
GDAS's straight-through hard one), so the loss is differentiable in ``alpha`` through
``Z`` (the paper's pathwise, reparameterised gradient).

**Temperature.** ``tau`` anneals linearly from ``tau_max = 1`` to ``tau_min = 0.03`` over
the schedule (the official SNAS-Series code: ``--temp 1 --temp_min 0.03 --temp_annealing``,
linear ``Temp_Scheduler``, per epoch there, per iteration here).

**Single-level update.** One train batch per iteration; network weights and ``alpha`` are
updated from one backward pass of the same loss (the paper optimises both on one generic
objective, unlike DARTS's bi-level valid/train split; the valid split is not used):
weights by SGD (momentum 0.9, no Nesterov, lr 0.025 cosine-annealed to 0.001, weight
decay 3e-4, gradient-norm clip 5), ``alpha`` by Adam (lr 3e-4, betas (0.5, 0.999), weight
decay 1e-3: DARTS's, and the official code's in its distributed setup) with its gradient
norm clipped at 10, over 150 epochs (official ``train_search.py`` defaults).
``alpha`` starts at ``N(1, 0.01)`` (official ``--loc_mean 1 --loc_std 0.01``). The derived
cell is the per-edge argmax of ``alpha`` (the official ``--gen_max_child``).

**Resource constraint** (the paper's resource-aware penalty). The loss adds ``eta * E_Z[C(Z)]``, where the
cost of the child ``C(Z) = sum_e c[e, op_e]`` is additive over edges (``resource``):
``"flops"`` or ``"params"`` of the NB201 benchmark network (closed forms, C=16, N=5, 32x32
images, 10 classes), ``"mac"`` (memory access cost of ShuffleNet V2, Ma et al. 2018:
``hw (c_in + c_out) + k^2 c_in c_out`` for a convolution, ``2 hw c`` for the pooling,
nothing for ``skip_connect`` and ``none``), or ``"latency/<device>"`` (the additive model
fitted on the table's column, :func:`~benchlab.nn.fit_latency_model`). Costs are shifted
to 0 for each edge's cheapest op and scaled so that the dearest cell costs 1: ``eta`` is
the loss of the full cost range. The cost of a discrete child is not differentiable, so
the paper uses the score-function (policy-gradient) estimator
``grad E[C] = E[C(Z) grad log p(Z)]``; here (``resource_estimator="score"``, the default,
as the official ``--method policy_gradient``) ``Z`` is the discrete child that the concrete
sample relaxes (the per-edge argmax of the same perturbed logits, distributed exactly as
``Categorical(pi_e)`` by the Gumbel-max trick) and, the cost being a sum over independently
sampled edges, each edge's score is weighted by its own cost only (the other edges' terms
have zero mean): the surrogate ``eta * sum_e c[e, k_e] * log pi_e(k_e)``. The alternative
``"reparam"`` (the official ``--method reparametrization``) charges the cost of the soft
sample, ``eta * sum_e sum_o Z_e,o c[e, o]``, differentiated pathwise through ``Z``.
"""

from __future__ import annotations

from ._engine import SearchEngine
from ._flops import NB201_OPS, nb201_flops, nb201_param_count

__all__ = ["RESOURCES", "SnasSearch", "concrete_sample", "op_costs"]

#: Resource names of the SNAS penalty, besides ``latency/<device>``.
RESOURCES = ("flops", "params", "mac")


def _mac_costs(C: int = 16, N: int = 5, size: int = 32) -> list[float]:
    """Memory access cost (ShuffleNet V2, Ma et al. ECCV 2018, guideline G1) per op of one
    edge, summed over the 3 N cells of the NB201 network: feature-map reads and writes plus
    the convolution's weights; BN and ReLU fused, identity and ``none`` free."""
    cost = [0.0] * len(NB201_OPS)
    for stage, c in enumerate((C, 2 * C, 4 * C)):
        hw = (size // 2**stage) ** 2
        for op, value in (("nor_conv_1x1", hw * 2 * c + c * c), ("nor_conv_3x3", hw * 2 * c + 9 * c * c),
                          ("avg_pool_3x3", 2 * hw * c)):  # fmt: skip
            cost[NB201_OPS.index(op)] += N * value
    return cost


def op_costs(resource: str, table: str = "nb201") -> list[list[float]]:
    """Raw cost ``c[e][o]`` of op ``o`` on edge ``e`` (6 x 5, :data:`NB201_OPS` order).

    ``"flops"`` / ``"params"``: the contribution of one edge to the NB201 benchmark network's
    FLOPs / parameters (C=16, N=5, 32x32 images, 10 classes; exactly additive); ``"mac"``:
    see :func:`_mac_costs`; ``"latency/<device>"``: the weights (ms) of the latency model
    fitted on ``table`` (:func:`~benchlab.nn.fit_latency_model`).
    """
    from benchlab import InvalidConfig

    if resource in ("flops", "params"):
        f = nb201_flops if resource == "flops" else nb201_param_count
        base = f((0,) * 6)
        per_op = [(f((o,) * 6) - base) / 6.0 for o in range(len(NB201_OPS))]
        return [list(per_op) for _ in range(6)]
    if resource == "mac":
        return [_mac_costs() for _ in range(6)]
    if isinstance(resource, str) and resource.startswith("latency/"):
        from ._latency import fit_latency_model

        return [list(row) for row in fit_latency_model(resource, table).weights]
    raise InvalidConfig(f"unknown SNAS resource {resource!r}; use one of {', '.join(RESOURCES)} or 'latency/<device>'")


def normalized_costs(raw) -> list[list[float]]:
    """``raw`` shifted to 0 for each edge's cheapest op and divided by the cost range of
    the cell, so that the cheapest cell costs 0 and the dearest 1."""
    lows = [min(row) for row in raw]
    span = sum(max(row) - lo for row, lo in zip(raw, lows))
    scale = 1.0 / span if span > 0 else 0.0
    return [[(v - lo) * scale for v in row] for row, lo in zip(raw, lows)]


def concrete_sample(alpha, tau: float):
    """One concrete sample per edge: ``(soft, index)``.

    ``soft`` (6 x 5) is ``softmax((log_softmax(alpha) + G) / tau)``, differentiable in
    ``alpha``; ``index`` (6 op ids, a tensor) is the discrete child it relaxes,
    ``argmax(log_softmax(alpha) + G)`` (a draw of ``Categorical(softmax(alpha))``). ``G``
    comes from torch's (seeded, forked) generator; non-finite draws are redrawn.
    """
    import torch

    while True:
        gumbels = -torch.empty_like(alpha).exponential_().log()
        perturbed = alpha.log_softmax(dim=-1) + gumbels
        soft = (perturbed / tau).softmax(dim=-1)
        if torch.isfinite(gumbels).all() and torch.isfinite(soft).all():
            return soft, perturbed.detach().argmax(dim=-1)


def forward_weighted(net, x, weights):
    """Logits of the supernet with every edge mixing its ops by ``weights`` (6 x 5)."""
    from ._supernet import SearchCell

    h = net.stem(x)
    for cell in net.cells:
        h = cell(h, "softmax", weights, None) if isinstance(cell, SearchCell) else cell(h)
    return net.classifier(net.pool(net.lastact(h)).flatten(1))


class SnasSearch(SearchEngine):
    """SNAS with the resource constraint (see the module docstring).

    ``params`` adds ``tau_max``, ``tau_min``, ``arch_lr``, ``arch_weight_decay``,
    ``arch_grad_clip``, ``resource``, ``resource_weight`` (eta), ``resource_estimator``
    (``"score"`` or ``"reparam"``) and ``latency_table`` to the common ones.
    """

    def _build(self) -> None:
        import torch

        self.model = self.supernet()
        with torch.no_grad():  # official SNAS init of the architecture logits: N(1, 0.01)
            self.model.alpha.normal_(1.0, 0.01)
        self.a_optimizer = torch.optim.Adam(
            [self.model.alpha], lr=self.p["arch_lr"], betas=(0.5, 0.999), weight_decay=self.p["arch_weight_decay"]
        )
        self.raw_costs = op_costs(self.p["resource"], self.p.get("latency_table", "nb201"))
        self._costs = torch.tensor(normalized_costs(self.raw_costs), dtype=torch.float32)

    @property
    def tau(self) -> float:
        """Linear annealing from ``tau_max`` to ``tau_min`` over the schedule."""
        hi, lo = float(self.p["tau_max"]), float(self.p["tau_min"])
        return hi - (hi - lo) * self.progress

    def expected_cost(self) -> float:
        """``E[C]`` (normalised, 0..1) of the child under ``Categorical(softmax(alpha))``."""
        return float((self.model.alpha.detach().softmax(dim=-1).cpu() * self._costs).sum())

    def _resource_loss(self, soft, index):
        costs = self._costs.to(self.model.alpha.device)
        if self.p["resource_estimator"] == "reparam":
            return (soft * costs).sum()
        rows = range(len(index))
        chosen = costs[rows, index]  # the sampled child's cost, per edge (a constant)
        return (chosen * self.model.alpha.log_softmax(dim=-1)[rows, index]).sum()

    def _step(self) -> None:
        import torch

        x, y = self.train_batch()
        model = self.model
        model.train()
        self.w_optimizer.zero_grad(set_to_none=True)
        self.a_optimizer.zero_grad(set_to_none=True)
        soft, index = concrete_sample(model.alpha, self.tau)
        loss = self.criterion(forward_weighted(model, x, soft), y)
        eta = float(self.p["resource_weight"])
        if eta > 0:
            loss = loss + eta * self._resource_loss(soft, index)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self._weights(), self.p["grad_clip"])
        torch.nn.utils.clip_grad_norm_([model.alpha], self.p["arch_grad_clip"])
        self.w_optimizer.step()
        self.a_optimizer.step()

    def derive(self) -> tuple:
        return self.model.derive()

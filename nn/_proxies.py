"""Zero-cost proxies: scores of an untrained network that are meant to rank architectures.

Every proxy is a function ``proxy(model, inputs, targets) -> float`` on a torch classifier
that returns logits (e.g. :class:`benchlab.nn.NB201Network`). None of them changes the
caller's model: gradient-based proxies work on a deep copy (train mode, so BatchNorm uses
batch statistics, as the reference code). For fixed weights and inputs they are
deterministic on CPU (build the model with a seeded ``init_seed``).

Conventions follow Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021
(and their public ``zero-cost-nas`` code, read, not copied): per-weight saliencies are
summed over the weights of every ``Conv2d`` and ``Linear`` layer (biases and BatchNorm
excluded), with the cross-entropy loss of one batch.

* ``params`` -- number of parameters (all of them, as the NB201 tables count).
* ``flops`` -- FLOPs per image (:func:`benchlab.nn.count_flops` convention).
* ``synflow`` -- Tanaka et al., "Pruning neural networks without any data by iteratively
  conserving synaptic flow", NeurIPS 2020: on a copy in float64 with every weight replaced
  by its absolute value and BatchNorm removed (``bn=False`` in zero-cost-nas), ``R =
  sum(f(1))`` for an all-ones input of one image; score ``sum |theta * dR/dtheta|``.
  Data-independent: only ``inputs.shape[1:]`` is used.
* ``snip`` -- Lee et al., ICLR 2019: ``sum |theta * dL/dtheta|``.
* ``grad_norm`` -- sum over layers of the L2 norm of ``dL/dW``.
* ``grasp`` -- Wang et al., ICLR 2020: ``sum -theta * (H g)``, ``g = dL/dtheta`` and ``H``
  the Hessian of L (Hessian-gradient product by double backward).
* ``fisher`` -- Theis et al. 2018 / Turner et al. 2020: for every conv/linear output
  activation ``a`` and its gradient, ``sum_channels 0.5 * mean_batch (sum_pixels a *
  dL/da)^2``.
* ``jacob_cov`` -- Mellor et al. 2020 (v1 of NASWOT): the correlation matrix of the
  per-image input Jacobians of ``sum(logits)``; score ``-sum(log(v + k) + 1 / (v + k))``
  over its eigenvalues ``v``, ``k = 1e-5``; NaN when a Jacobian is constant (the
  correlation is undefined; the reference code returns NaN too).
* ``naswot`` -- Mellor et al., "Neural Architecture Search without Training", ICML 2021:
  ``log |K_H|`` where ``K_H = sum over ReLUs of (c c^T + (1 - c)(1 - c)^T)`` and ``c`` the
  binary code (input > 0) of each image at that ReLU (the Hamming-similarity kernel).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from ._scoring import DATA_INDEPENDENT as _DATA_INDEPENDENT

__all__ = [
    "PROXIES",
    "DATA_INDEPENDENT",
    "params",
    "flops",
    "synflow",
    "snip",
    "grad_norm",
    "grasp",
    "fisher",
    "jacob_cov",
    "naswot",
]

_LAYERS = (nn.Conv2d, nn.Linear)


def _layers(model) -> list:
    return [m for m in model.modules() if isinstance(m, _LAYERS)]


def _ce_backward(model, inputs, targets) -> None:
    model.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(model(inputs), targets)
    loss.backward()


def _work_copy(model):
    net = copy.deepcopy(model)
    net.train()
    return net


def params(model, inputs=None, targets=None) -> float:
    """Number of parameters of ``model``."""
    return float(sum(p.numel() for p in model.parameters()))


def flops(model, inputs, targets=None) -> float:
    """FLOPs per image on images shaped like ``inputs[0]``."""
    from ._flops import count_flops

    return float(count_flops(model, tuple(inputs.shape[1:])))


def _without_bn(model):
    for name, child in list(model.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            _without_bn(child)
    return model


def synflow(model, inputs, targets=None) -> float:
    """SynFlow (Tanaka et al. 2020), see the module docstring. ``inputs`` give the shape only."""
    net = _without_bn(copy.deepcopy(model)).double()
    net.eval()  # no BN is left; eval only fixes any other train-time behaviour
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()  # the copy is discarded, so the signs need no restoring
    net.zero_grad(set_to_none=True)
    ones = torch.ones((1, *inputs.shape[1:]), dtype=torch.float64, device=next(net.parameters()).device)
    net(ones).sum().backward()
    total = 0.0
    with torch.no_grad():
        for layer in _layers(net):
            if layer.weight.grad is not None:
                total += float((layer.weight * layer.weight.grad).abs().sum())
    return total


def snip(model, inputs, targets) -> float:
    """SNIP saliency (Lee et al. 2019): ``sum |theta * dL/dtheta|`` over conv/linear weights."""
    net = _work_copy(model)
    _ce_backward(net, inputs, targets)
    with torch.no_grad():
        return float(sum((m.weight * m.weight.grad).abs().sum() for m in _layers(net) if m.weight.grad is not None))


def grad_norm(model, inputs, targets) -> float:
    """Sum over conv/linear layers of ``||dL/dW||_2``."""
    net = _work_copy(model)
    _ce_backward(net, inputs, targets)
    return float(sum(m.weight.grad.norm() for m in _layers(net) if m.weight.grad is not None))


def grasp(model, inputs, targets) -> float:
    """GraSP (Wang et al. 2020): ``sum -theta * H g`` over conv/linear weights."""
    net = _work_copy(model)
    weights = [m.weight for m in _layers(net)]
    loss = nn.functional.cross_entropy(net(inputs), targets)
    g = torch.autograd.grad(loss, weights, allow_unused=True)
    loss = nn.functional.cross_entropy(net(inputs), targets)
    g_graph = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    z = sum((a.detach() * b).sum() for a, b in zip(g, g_graph) if a is not None and b is not None)
    net.zero_grad(set_to_none=True)
    z.backward()
    with torch.no_grad():
        return float(sum((-w * w.grad).sum() for w in weights if w.grad is not None))


def fisher(model, inputs, targets) -> float:
    """Fisher channel saliency (Theis et al. 2018; Turner et al. 2020), see the module docstring."""
    net = _work_copy(model)
    acts: list = []

    def keep(module, args, output):
        output.retain_grad()
        acts.append(output)

    handles = [m.register_forward_hook(keep) for m in _layers(net)]
    try:
        _ce_backward(net, inputs, targets)
    finally:
        for h in handles:
            h.remove()
    total = 0.0
    for a in acts:
        if a.grad is None:
            continue
        prod = a * a.grad
        per_channel = prod.sum(dim=(2, 3)) if prod.dim() == 4 else prod
        total += float((0.5 * per_channel.detach().pow(2).mean(dim=0)).sum())
    return total


def jacob_cov(model, inputs, targets=None) -> float:
    """Jacobian covariance (Mellor et al. 2020, v1), see the module docstring."""
    net = _work_copy(model)
    x = inputs.detach().clone().requires_grad_(True)
    net(x).sum().backward()
    jac = x.grad.detach().reshape(len(x), -1).double().cpu().numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(jac)
    if not np.isfinite(corr).all():  # a constant Jacobian (e.g. a cell of none edges)
        return math.nan
    v = np.linalg.eigvalsh(corr)
    k = 1e-5
    return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


def naswot(model, inputs, targets=None) -> float:
    """NASWOT (Mellor et al. 2021): ``log |K_H|`` of the ReLU binary-code kernel."""
    net = _work_copy(model)
    n = len(inputs)
    K = torch.zeros((n, n), dtype=torch.float64)

    def code(module, args):
        c = (args[0].detach().reshape(n, -1) > 0).double().cpu()
        K.add_(c @ c.t() + (1.0 - c) @ (1.0 - c).t())

    handles = [m.register_forward_pre_hook(code) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            net(inputs)
    finally:
        for h in handles:
            h.remove()
    sign, logdet = np.linalg.slogdet(K.numpy())
    return float(logdet) if sign > 0 else -math.inf


#: name -> function, in the order ``benchlab proxies`` prints them.
PROXIES = {
    "params": params,
    "flops": flops,
    "synflow": synflow,
    "snip": snip,
    "grad_norm": grad_norm,
    "grasp": grasp,
    "fisher": fisher,
    "jacob_cov": jacob_cov,
    "naswot": naswot,
}
#: Proxies that need no data (computed on the benchmark's own network and image size).
DATA_INDEPENDENT = _DATA_INDEPENDENT

"""DARTS on the NB201 supernet: first order (DARTS-V1) and second order (DARTS-V2).

Liu, Simonyan & Yang, "DARTS: Differentiable Architecture Search", ICLR 2019. Each
iteration takes one train batch and one valid batch:

* first order (``order=1``, the NB201 ``DARTS-V1`` script): an SGD step of the weights on
  the train loss, then an Adam step of ``alpha`` on the valid loss at the new weights;
* second order (``order=2``, ``DARTS-V2``): ``alpha`` follows the gradient of the valid
  loss at the one-step *unrolled* weights ``w' = w - xi * grad_w L_train(w, alpha)``, i.e.
  ``grad_alpha L_val(w', alpha) - xi * H v``, where the Hessian-vector product
  ``H v = grad^2_{alpha,w} L_train(w, alpha) . grad_w' L_val(w', alpha)`` is the finite
  difference ``(grad_alpha L_train(w+, alpha) - grad_alpha L_train(w-, alpha)) / (2 eps)``
  with ``w+- = w +- eps v`` and ``eps = 0.01 / ||v||`` (Liu et al., eq. 7-8). ``xi`` is the
  current weight learning rate, as in the paper. Then the weight step.

The architecture optimizer is Adam with lr 3e-4, betas (0.5, 0.999) and weight decay 1e-3
(DARTS paper section 3.1; the NB201 scripts' ``--arch_learning_rate 0.0003
--arch_weight_decay 0.001``).
"""

from __future__ import annotations

from ._engine import SearchEngine, cosine_lr

__all__ = ["DartsSearch"]


class DartsSearch(SearchEngine):
    """DARTS-V1 (``params["order"] == 1``) or DARTS-V2 (``== 2``) on the NB201 supernet."""

    def _build(self) -> None:
        import torch

        self.model = self.supernet()
        self.a_optimizer = torch.optim.Adam(
            [self.model.alpha], lr=self.p["arch_lr"], betas=(0.5, 0.999), weight_decay=self.p["arch_weight_decay"]
        )

    def _loss(self, x, y):
        return self.criterion(self.model(x, mode="softmax"), y)

    def _step(self) -> None:
        xt, yt = self.train_batch()
        xv, yv = self.valid_batch()
        if int(self.p["order"]) == 2:
            self._arch_step_unrolled(xt, yt, xv, yv)
            self.weight_step(lambda: self._loss(xt, yt))
        else:  # NB201 DARTS-V1: weights first, then alpha at the new weights
            self.weight_step(lambda: self._loss(xt, yt))
            self._arch_step(xv, yv)

    def _arch_step(self, xv, yv) -> None:
        self.model.train()
        self.a_optimizer.zero_grad(set_to_none=True)
        self._loss(xv, yv).backward()
        self.a_optimizer.step()

    def _arch_step_unrolled(self, xt, yt, xv, yv) -> None:
        import torch

        model, weights, alpha = self.model, self._weights(), self.model.alpha
        model.train()
        xi = cosine_lr(self.steps, self.total_steps, self.p["lr"], self.p["lr_min"])
        wd = self.p["weight_decay"]
        backup = [w.detach().clone() for w in weights]
        # w' = w - xi * (grad_w L_train + wd * w)
        grads = torch.autograd.grad(self._loss(xt, yt), weights, allow_unused=True)
        with torch.no_grad():
            for w, g in zip(weights, grads):
                step = wd * w if g is None else g + wd * w
                w.sub_(xi * step)
        # grad of L_val(w', alpha) w.r.t. alpha and w'
        val = torch.autograd.grad(self._loss(xv, yv), [alpha] + weights, allow_unused=True)
        d_alpha = val[0]
        v = [torch.zeros_like(w) if g is None else g for w, g in zip(weights, val[1:])]
        norm = torch.sqrt(sum((g * g).sum() for g in v))
        eps = 0.01 / (float(norm) + 1e-12)
        hv = []
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for w, b, g in zip(weights, backup, v):
                    w.copy_(b + sign * eps * g)
            hv.append(torch.autograd.grad(self._loss(xt, yt), alpha)[0])
        with torch.no_grad():
            for w, b in zip(weights, backup):
                w.copy_(b)
        implicit = (hv[0] - hv[1]) / (2.0 * eps)
        self.a_optimizer.zero_grad(set_to_none=True)
        alpha.grad = d_alpha - xi * implicit
        self.a_optimizer.step()

    def derive(self) -> tuple:
        return self.model.derive()

"""A vectorised ensemble of small feed-forward regressors in NumPy (private helper of BANANAS).

All ``n_models`` networks share one architecture (``n_layers`` hidden ReLU layers of
``width`` units and a linear output) and are trained *together*: their weights are stacked
on a leading ensemble axis, so one batched ``matmul`` per layer serves every member. Each
member still has its own initial weights and its own mini-batch order every epoch, as
independently trained Keras models would. All parameters (and their gradients and Adam
moments) live in one flat buffer, so an Adam step costs a handful of NumPy calls whatever
the depth.

Initialisation follows Keras ``Dense`` defaults (Glorot-uniform kernels, zero biases), the
optimiser Keras ``Adam`` (bias-corrected, ``epsilon=1e-7``), as in the BANANAS reference
implementation (naszilla ``meta_neural_net.py``).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

__all__ = ["MLPEnsemble"]

_DT = np.float32  # single precision: twice as fast as float64 here, ample for a surrogate


class MLPEnsemble:
    """``n_models`` independent MLPs ``d -> width x n_layers (ReLU) -> 1``, trained at once.

    Parameters
    ----------
    n_models, n_layers, width:
        Ensemble size, number of hidden layers, hidden units per layer.
    loss:
        ``"mae"`` (mean absolute error) or ``"mse"`` (mean squared error).
    lr, beta1, beta2, eps:
        Adam hyper-parameters.
    """

    def __init__(self, n_models: int = 5, n_layers: int = 10, width: int = 20, loss: str = "mae",
                 lr: float = 0.01, beta1: float = 0.9, beta2: float = 0.99, eps: float = 1e-7) -> None:
        if loss not in ("mae", "mse"):
            raise ValueError(f"loss must be 'mae' or 'mse', got {loss!r}")
        self.n_models = int(n_models)
        self.n_layers = int(n_layers)
        self.width = int(width)
        self.loss = loss
        self.lr, self.beta1, self.beta2, self.eps = float(lr), float(beta1), float(beta2), float(eps)
        self._flat = None

    # -- parameter buffer -------------------------------------------------------------
    # Layer l maps (E, B, a) -> (E, B, b) with one array of shape (E, a + 1, b): rows 0..a-1
    # are the kernel, row a the bias. Activations carry a trailing column of ones, so one
    # matmul applies kernel and bias, and one matmul gives both gradients.
    def _shapes(self, d: int) -> list[tuple[int, int, int]]:
        dims = [d] + [self.width] * self.n_layers + [1]
        return [(self.n_models, a + 1, b) for a, b in pairwise(dims)]

    @staticmethod
    def _views(flat: np.ndarray, shapes) -> list[np.ndarray]:
        out, pos = [], 0
        for s in shapes:
            n = s[0] * s[1] * s[2]
            out.append(flat[pos:pos + n].reshape(s))
            pos += n
        return out

    def _init(self, d: int, rng: np.random.Generator) -> None:
        shapes = self._shapes(d)
        total = sum(s[0] * s[1] * s[2] for s in shapes)
        self._d = d
        self._flat = np.zeros(total, dtype=_DT)
        self._params = self._views(self._flat, shapes)
        for W, (e, a1, b) in zip(self._params, shapes):
            limit = np.sqrt(6.0 / (a1 - 1 + b))  # Glorot uniform kernel (Keras default), zero bias
            W[:, :-1, :] = rng.uniform(-limit, limit, size=(e, a1 - 1, b))
        self._gflat = np.zeros(total, dtype=_DT)
        self._grads = self._views(self._gflat, shapes)

    # -- training ---------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int, rng: np.random.Generator) -> MLPEnsemble:
        """Fresh initialisation, then ``epochs`` passes of mini-batch Adam on ``(X, y)``.

        Every member reshuffles the data every epoch (its own permutation); the last batch
        of an epoch may be smaller, as in Keras ``fit``.
        """
        X = np.asarray(X, dtype=_DT)
        y = np.asarray(y, dtype=_DT).reshape(-1)
        n, d = X.shape
        self._init(d, rng)
        Xa = np.concatenate([X, np.ones((n, 1), dtype=_DT)], axis=1)
        m = np.zeros_like(self._flat)
        v = np.zeros_like(self._flat)
        b1, b2, lr, eps = self.beta1, self.beta2, self.lr, self.eps
        e = self.n_models
        bs = max(1, min(int(batch_size), n))
        Ws, gWs = self._params, self._grads
        n_lin = len(Ws)
        mae = self.loss == "mae"
        flat, gflat = self._flat, self._gflat
        tmp = np.empty_like(flat)
        buffers: dict[int, list[np.ndarray]] = {}  # batch size -> hidden activations (+ ones column)
        t = 0
        for _ in range(int(epochs)):
            order = rng.permuted(np.broadcast_to(np.arange(n), (e, n)), axis=1)
            Xp, yp = Xa[order], y[order][..., None]  # (E, n, d+1), (E, n, 1): one gather per epoch
            for start in range(0, n, bs):
                xb = Xp[:, start:start + bs]
                yb = yp[:, start:start + bs]
                B = xb.shape[1]
                hs = buffers.get(B)
                if hs is None:
                    hs = buffers[B] = [np.ones((e, B, self.width + 1), dtype=_DT) for _ in range(n_lin - 1)]
                # forward
                acts = [xb] + hs
                for li in range(n_lin - 1):
                    h = hs[li][..., :-1]
                    np.matmul(acts[li], Ws[li], out=h)
                    np.maximum(h, 0.0, out=h)
                out = np.matmul(acts[-1], Ws[-1])
                # backward
                out -= yb
                g = np.sign(out) if mae else out
                g *= (1.0 if mae else 2.0) / B
                for li in range(n_lin - 1, -1, -1):
                    a = acts[li]
                    np.matmul(a.transpose(0, 2, 1), g, out=gWs[li])
                    if li:
                        g = np.matmul(g, Ws[li][:, :-1, :].transpose(0, 2, 1))
                        g *= a[..., :-1] > 0.0
                # Adam on the flat buffer (Keras form: bias correction folded into lr)
                t += 1
                m *= b1
                np.multiply(gflat, 1.0 - b1, out=tmp)
                m += tmp
                v *= b2
                np.multiply(gflat, gflat, out=tmp)
                tmp *= 1.0 - b2
                v += tmp
                lr_t = lr * np.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
                np.sqrt(v, out=tmp)
                tmp += eps
                np.divide(m, tmp, out=tmp)
                tmp *= lr_t
                flat -= tmp
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predictions of every member, shape ``(n_models, n_points)``."""
        if self._flat is None:
            raise RuntimeError("MLPEnsemble.predict before fit")
        h = np.asarray(X, dtype=_DT)[None]
        for li, W in enumerate(self._params):
            h = np.matmul(h, W[:, :-1, :]) + W[:, -1:, :]
            if li < len(self._params) - 1:
                np.maximum(h, 0.0, out=h)
        return h[..., 0].astype(np.float64)

    # views into the flat buffers do not survive pickling as views: rebuild them
    def __getstate__(self):
        state = self.__dict__.copy()
        for k in ("_params", "_grads"):
            state.pop(k, None)
        return state

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)
        if self._flat is not None:
            shapes = self._shapes(self._d)
            self._params = self._views(self._flat, shapes)
            self._grads = self._views(self._gflat, shapes)

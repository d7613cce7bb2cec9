"""L2-regularised logistic regression with soft labels and sample weights, fitted by L-BFGS in numpy.

The training script needs one convex fit and nothing else, so this avoids a dependency on scipy or
scikit-learn. Labels may be fractional (AlpacaEval's weighted preferences are probabilities), which
the cross-entropy loss takes as they are. Each feature has its own penalty, so that a few dense
structural features and thousands of sparse word features can be regularised differently.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class LogisticFit:
    coef: FloatArray
    bias: float
    iterations: int
    loss: float


def sigmoid(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


def _objective(
    params: FloatArray, x: FloatArray, y: FloatArray, w: FloatArray, penalty: FloatArray
) -> tuple[float, FloatArray]:
    coef, bias = params[:-1], params[-1]
    z = x @ coef + bias
    # log(1 + e^z) - y z, computed without overflow
    loss_terms = np.logaddexp(0.0, z) - y * z
    loss = float(w @ loss_terms) + 0.5 * float(penalty @ (coef * coef))
    residual = w * (sigmoid(z) - y)
    grad = np.empty_like(params)
    grad[:-1] = x.T @ residual + penalty * coef
    grad[-1] = residual.sum()
    return loss, grad


def fit_logistic(
    x: FloatArray,
    y: FloatArray,
    weights: FloatArray,
    penalty: FloatArray,
    max_iter: int = 500,
    tolerance: float = 1e-7,
    memory: int = 10,
) -> LogisticFit:
    """Minimise sum_i w_i CE(y_i, sigmoid(x_i . coef + bias)) + 1/2 sum_j penalty_j coef_j^2.

    ``weights`` are normalised to sum to one, so a penalty means the same whatever the data's
    size. The bias is not penalised. Raises ValueError on mismatched shapes.
    """
    n, d = x.shape
    if y.shape != (n,) or weights.shape != (n,) or penalty.shape != (d,):
        raise ValueError("x, y, weights and penalty have mismatched shapes")
    w = weights / weights.sum()
    params = np.zeros(d + 1)
    loss, grad = _objective(params, x, y, w, penalty)
    history: deque[tuple[FloatArray, FloatArray, float]] = deque(maxlen=memory)
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        direction = -grad.copy()
        alphas = []
        for s, g_diff, rho in reversed(history):
            alpha = rho * float(s @ direction)
            direction -= alpha * g_diff
            alphas.append(alpha)
        if history:
            s, g_diff, _ = history[-1]
            direction *= float(s @ g_diff) / float(g_diff @ g_diff)
        for (s, g_diff, rho), alpha in zip(history, reversed(alphas), strict=True):
            beta = rho * float(g_diff @ direction)
            direction += (alpha - beta) * s
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            history.clear()
            direction = -grad
            slope = float(grad @ direction)
        step = 1.0
        while True:
            candidate = params + step * direction
            new_loss, new_grad = _objective(candidate, x, y, w, penalty)
            if new_loss <= loss + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s_vec, g_vec = candidate - params, new_grad - grad
        curvature = float(s_vec @ g_vec)
        if curvature > 1e-12:
            history.append((s_vec, g_vec, 1.0 / curvature))
        improvement = loss - new_loss
        params, loss, grad = candidate, new_loss, new_grad
        if improvement < tolerance * max(1.0, abs(loss)) and float(np.abs(grad).max()) < 1e-5:
            break
    return LogisticFit(params[:-1].copy(), float(params[-1]), iteration, loss)

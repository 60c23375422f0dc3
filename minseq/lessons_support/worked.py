"""One element of a backward pass worked through with the run's own numbers.

A lesson that teaches a layer shows its forward with numbers; this shows one gradient entry
the same way, e.g. ``dW2[1, 0] = h[0, 1] * dz2[0, 0] = 1.2623 * 0.1552 = 0.1959``, and checks
the sum against the layer's own gradient, so a wrong backward fails the lesson here too.
"""

import math

from .. import backend

#: products printed in full before the rest of a long sum is summarised
SHOWN = 6


def _number(value):
    return float(backend.to_numpy(value))


def work_element(L, label, products, layer, rtol=1e-7, atol=1e-10):
    """Print ``label = sum of products`` term by term with numbers, and check the sum against
    ``layer`` (the layer's value of that entry). ``products``: a list of products, each a list
    of (symbol, value) factors. Returns the sum."""
    if not products or not all(products):
        raise ValueError(f"work_element: {label}: no products to work through")
    terms = [[(symbol, _number(value)) for symbol, value in p] for p in products]
    total = sum(math.prod(v for _, v in p) for p in terms)

    def show(parts, joint):
        text = " + ".join(joint.join(parts[k]) for k in range(min(SHOWN, len(parts))))
        if len(parts) > SHOWN:
            text += f" + ... ({len(parts) - SHOWN} more)"
        return text
    symbols = [[s for s, _ in p] for p in terms]
    numbers = [[f"{v:.4f}" for _, v in p] for p in terms]
    print(f"    {label} = {show(symbols, ' * ')}")
    print(f"    {' ' * len(label)} = {show(numbers, ' * ')} = {total:.4f}")
    L.check_close(f"{label} worked with numbers equals the layer's gradient "
                  f"({_number(layer):.4f})", total, _number(layer), rtol=rtol, atol=atol)
    return total


def work_weight_gradient(L, label, X, dY, i, j, layer, x_name="x", dy_name="dy"):
    """Work ``dW[i, j] = sum_r X[r, i] dY[r, j]`` (dW = X^T dY, rows r of X and dY flattened
    over every leading axis) with numbers and check it against ``layer[i, j]``."""
    X = backend.to_numpy(X).reshape(-1, backend.to_numpy(X).shape[-1])
    dY = backend.to_numpy(dY).reshape(-1, backend.to_numpy(dY).shape[-1])
    if X.shape[0] != dY.shape[0]:
        raise ValueError(f"work_weight_gradient: {label}: {x_name} has {X.shape[0]} rows "
                         f"and {dy_name} has {dY.shape[0]}: expected the same")
    r_all = range(X.shape[0])
    products = [[(f"{x_name}[{r}, {i}]", X[r, i]), (f"{dy_name}[{r}, {j}]", dY[r, j])]
                for r in r_all]
    return work_element(L, f"{label}[{i}, {j}]", products, backend.to_numpy(layer)[i, j])

"""Lesson 14, exercise 2, worked solution: a least-squares line through the timings.

Grade it:  python lessons/14_cpu_vs_gpu.py --exercise 2 --solution
"""


def fit_cost_per_step(lengths, seconds):
    """(a, b) of the least-squares line time(T) = a + b T, as Python floats."""
    dT = lengths - lengths.mean()             # centred: a and b decouple
    ds = seconds - seconds.mean()
    b = (dT * ds).sum() / (dT * dT).sum()     # covariance of T and s over the variance of T
    a = seconds.mean() - b * lengths.mean()   # the best line passes through the means
    return float(a), float(b)

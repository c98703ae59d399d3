"""Loss surfaces for optiviz: values, analytic gradients and what is known about their minima.

>>> import surfaces
>>> s = surfaces.get("rosenbrock")
>>> s.value(1.0, 1.0), s.grad(1.0, 1.0)
(0.0, (-0.0, 0.0))
"""

from ._expr import ExpressionError
from ._registry import (
    ESCAPE_FACTOR,
    EXPRESSION_NAME,
    LR_MANTISSAS,
    QUADRATIC_DEFAULTS,
    Surface,
    from_expression,
    get,
    names,
)

__all__ = ["ESCAPE_FACTOR", "EXPRESSION_NAME", "LR_MANTISSAS", "QUADRATIC_DEFAULTS", "ExpressionError", "Surface",
           "from_expression", "get", "names"]

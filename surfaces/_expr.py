"""Typed surfaces: a text f(x, y) parsed by a grammar of our own, compiled to a small program that the one
compiled kernel runs (value and gradient together, forward-mode), so that a new function needs no compiler.

The grammar: numbers (``2``, ``0.5``, ``1e-3``), ``x``, ``y``, ``pi``, ``e``, ``+ - * /``, ``**`` or ``^`` (right
associative, above unary minus: ``-x^2`` is ``-(x^2)``), parentheses, and calls of ``sin cos tan exp log sqrt abs
tanh sinh cosh arctan atan`` (one argument) and ``min max`` (two). Nothing else: the text is read character by
character here and never handed to ``eval``, ``compile`` or a computer-algebra parser. Limits: 300 characters,
nesting 40 deep, 200 operations; a constant part that overflows a float64 (``9**9**9**9``) is refused at once.

The program (a float64 array; see :func:`compile_program`) is what ``surfaces._kernels`` interprets for the
surface id ``EXPRESSION``. :func:`evaluate` runs the same operations in Python floats, for the messages that
name the operation that is undefined at a point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_LENGTH = 300
MAX_DEPTH = 40
MAX_NODES = 200
#: The stack the program may need at most (its depth is computed when it is compiled).
MAX_STACK = 64

FUNCTIONS_1 = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh", "arctan", "atan")
FUNCTIONS_2 = ("min", "max")
CONSTANTS = {"pi": math.pi, "e": math.e}
ALLOWED = ", ".join(("x", "y", *CONSTANTS, *FUNCTIONS_1, *FUNCTIONS_2))

# Opcodes (floats in the program; CONST is followed by its value).
CONST, X, Y, NEG, ADD, SUB, MUL, DIV, POW, SQR = range(10)
SIN, COS, TAN, EXP, LOG, SQRT, ABS, TANH, SINH, COSH, ATAN, MIN, MAX = range(10, 23)
_UNARY = {"sin": SIN, "cos": COS, "tan": TAN, "exp": EXP, "log": LOG, "sqrt": SQRT, "abs": ABS, "tanh": TANH,
          "sinh": SINH, "cosh": COSH, "arctan": ATAN, "atan": ATAN}
_BINARY = {"+": ADD, "-": SUB, "*": MUL, "/": DIV, "^": POW, "min": MIN, "max": MAX}


class ExpressionError(ValueError):
    """What is wrong with a typed function, and where (``position``: the character, from 1; None if nowhere)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"{message} (at character {position})")
        self.position = position


# ---- the tree ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Node:
    """``op``: "num", "x", "y", "neg", "+", "-", "*", "/", "^" or a function's name; ``args``; ``value`` for a
    number; ``text``: how it was written (a constant's name: "pi")."""

    op: str
    args: tuple[Node, ...] = ()
    value: float = 0.0
    text: str = ""


def _tokens(text: str) -> list[tuple[str, str, int]]:
    """(kind, text, position from 1): kinds "num", "name", "op", and "error" (its text the message) for a
    character that is not allowed, which the parser reports when it gets there (so the first problem from the
    left is the one named)."""
    try:
        return _scan(text)
    except ExpressionError as exc:
        return [*_scan(text[: exc.position - 1]), ("error", exc.args[0].rsplit(" (at character", 1)[0], exc.position)]


def _scan(text: str) -> list[tuple[str, str, int]]:
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t":
            i += 1
            continue
        if not (c.isascii() and c.isprintable()):
            what = "a NUL byte" if c == "\0" else f"{c!r} (U+{ord(c):04X})"
            raise ExpressionError(f"{what} is not allowed: use plain ASCII (x, y, digits, + - * / ^ ( ) ,)", i + 1)
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i
            while j < n and (text[j].isdigit() or text[j] == "."):
                j += 1
            if j < n and text[j] in "eE" and (j + 1 < n and (text[j + 1].isdigit() or (
                    text[j + 1] in "+-" and j + 2 < n and text[j + 2].isdigit()))):
                j += 2
                while j < n and text[j].isdigit():
                    j += 1
            word = text[i:j]
            if word.count(".") > 1:
                raise ExpressionError(f"{word!r} is not a number", i + 1)
            out.append(("num", word, i + 1))
            i = j
            continue
        if c.isalpha() or c == "_":
            j = i
            while j < n and (text[j].isascii() and (text[j].isalnum() or text[j] == "_")):
                j += 1
            out.append(("name", text[i:j], i + 1))
            i = j
            continue
        if text.startswith("**", i):
            out.append(("op", "^", i + 1))
            i += 2
            continue
        if c in "+-*/^(),":
            out.append(("op", c, i + 1))
            i += 1
            continue
        hint = {"=": "assignments", ".": "attribute access", "[": "indexing", "'": "strings", '"': "strings",
                ":": "this", "@": "this", "{": "this", ";": "several statements", "!": "this", "%": "this",
                "<": "comparisons", ">": "comparisons", "|": "this", "&": "this", "~": "this", "#": "comments",
                "\\": "this", "$": "this", "`": "this", "?": "this"}.get(c, "this")
        raise ExpressionError(f"{c!r} is not allowed: optiviz's functions have no {hint}" if hint != "this" else
                              f"{c!r} is not allowed", i + 1)
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.nodes = 0

    def peek(self) -> tuple[str, str, int] | None:
        token = self.tokens[self.i] if self.i < len(self.tokens) else None
        if token is not None and token[0] == "error":
            raise ExpressionError(token[1], token[2])
        return token

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise ExpressionError("the function ends too early", len(self.text) + 1)
        self.i += 1
        return token

    def node(self, *args, **kwargs) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"too many operations: at most {MAX_NODES}")
        return Node(*args, **kwargs)

    def expect(self, op: str) -> None:
        token = self.peek()
        if token is None or token[:2] != ("op", op):
            where = token[2] if token else len(self.text) + 1
            found = f"found {token[1]!r}" if token else "the function ends"
            raise ExpressionError(f"expected {op!r}, {found}", where)
        self.i += 1

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("the function is empty: type one, e.g. x^2 + 10*sin(y)")
        tree = self.sum(0)
        token = self.peek()
        if token is not None:
            raise ExpressionError(f"unexpected {token[1]!r}", token[2])
        return tree

    def sum(self, depth: int) -> Node:
        left = self.product(depth)
        while (token := self.peek()) and token[0] == "op" and token[1] in "+-":
            self.i += 1
            left = self.node(token[1], (left, self.product(depth)))
        return left

    def product(self, depth: int) -> Node:
        left = self.unary(depth)
        while (token := self.peek()) and token[0] == "op" and token[1] in "*/":
            self.i += 1
            left = self.node(token[1], (left, self.unary(depth)))
        return left

    def unary(self, depth: int) -> Node:
        token = self.peek()
        if token and token[:2] == ("op", "-"):
            self.i += 1
            self.check_depth(depth + 1, token)
            return self.node("neg", (self.unary(depth + 1),))
        if token and token[:2] == ("op", "+"):
            self.i += 1
            self.check_depth(depth + 1, token)
            return self.unary(depth + 1)
        return self.power(depth)

    def power(self, depth: int) -> Node:
        base = self.atom(depth)
        token = self.peek()
        if token and token[:2] == ("op", "^"):
            self.i += 1
            self.check_depth(depth + 1, token)
            return self.node("^", (base, self.unary(depth + 1)))  # right associative; 2^-1 is 0.5
        return base

    def check_depth(self, depth: int, token) -> None:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"nested too deeply: at most {MAX_DEPTH} levels", token[2])

    def atom(self, depth: int) -> Node:
        token = self.take()
        kind, word, where = token
        if kind == "num":
            try:
                value = float(word)
            except ValueError:
                raise ExpressionError(f"{word!r} is not a number", where) from None
            if not math.isfinite(value):
                raise ExpressionError(f"{word} is too large for a float64", where)
            return self.node("num", value=value, text=word)
        if kind == "name":
            low = word
            if low in ("x", "y"):
                return self.node(low, text=word)
            if low in CONSTANTS:
                return self.node("num", value=CONSTANTS[low], text=low)
            if low in FUNCTIONS_1 or low in FUNCTIONS_2:
                self.check_depth(depth + 1, token)
                self.expect("(")
                args = [self.sum(depth + 1)]
                while (t := self.peek()) and t[:2] == ("op", ","):
                    self.i += 1
                    args.append(self.sum(depth + 1))
                self.expect(")")
                want = 1 if low in FUNCTIONS_1 else 2
                if len(args) != want:
                    raise ExpressionError(f"{low} takes {want} argument{'s' if want > 1 else ''}, got {len(args)}",
                                          where)
                return self.node(low, tuple(args), text=word)
            nxt = self.peek()
            called = nxt is not None and nxt[:2] == ("op", "(")
            raise ExpressionError(f"{'calling ' if called else ''}{word!r} is not allowed; allowed: {ALLOWED}",
                                  where)
        if word == "(":
            self.check_depth(depth + 1, token)
            inner = self.sum(depth + 1)
            self.expect(")")
            return inner
        raise ExpressionError(f"unexpected {word!r}", where)


def parse(text: str) -> Node:
    """The tree of ``text``; :class:`ExpressionError` saying what is wrong and where otherwise."""
    if not isinstance(text, str):
        raise ExpressionError(f"the function must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the function is {len(text):,} characters long; at most {MAX_LENGTH}")
    tree = _Parser(text).parse()
    _fold_check(tree)
    return tree


def _fold_check(tree: Node) -> float | None:
    """The value of every constant part (no x or y), in float64, refusing one that overflows or is undefined:
    ``9**9**9**9`` is refused at once, never computed as a big integer."""
    if tree.op == "num":
        return tree.value
    if tree.op in ("x", "y"):
        for arg in tree.args:
            _fold_check(arg)
        return None
    values = [_fold_check(arg) for arg in tree.args]
    if any(v is None for v in values):
        return None
    value, _, _, problem = _apply(tree.op, [(v, 0.0, 0.0) for v in values])
    if problem.startswith("an overflow") or (not problem and math.isinf(value)):
        raise ExpressionError(f"{to_text(tree)} is too large for a float64 (over 1.8e308)")
    if problem or not math.isfinite(value):
        raise ExpressionError(f"{to_text(tree)} is undefined: {problem or 'not a number'}")
    return value


# ---- evaluation in Python floats (for messages; the kernel runs the same operations) -----------------------------

def _apply(op: str, args: list[tuple[float, float, float]]) -> tuple[float, float, float, str]:
    """One operation on (value, d/dx, d/dy) triples, as the kernel does it; the last item says what is undefined
    (empty if nothing)."""
    (a, ax, ay) = args[0]
    if len(args) == 2:
        (b, bx, by) = args[1]
    try:
        if op == "neg":
            return -a, -ax, -ay, ""
        if op == "+":
            return a + b, ax + bx, ay + by, ""
        if op == "-":
            return a - b, ax - bx, ay - by, ""
        if op == "*":
            return a * b, ax * b + a * bx, ay * b + a * by, ""
        if op == "/":
            if b == 0.0:
                return math.nan, math.nan, math.nan, ("0/0" if a == 0.0 else "a division by zero")
            v = a / b
            return v, (ax - v * bx) / b, (ay - v * by) / b, ""
        if op == "sqr":
            return a * a, 2.0 * a * ax, 2.0 * a * ay, ""
        if op == "^":
            if a < 0.0 and b != math.floor(b):
                return math.nan, math.nan, math.nan, "a negative number to a fractional power"
            if a == 0.0 and b < 0.0:
                return math.nan, math.nan, math.nan, "0 to a negative power"
            v = _pow(a, b)
            if bx == 0.0 and by == 0.0:
                k = b * _pow(a, b - 1.0)
                return v, k * ax, k * ay, ""
            la = math.log(a) if a > 0.0 else math.nan
            return v, v * (bx * la + _div(b * ax, a)), v * (by * la + _div(b * ay, a)), ""
        if op == "sin":
            c = math.cos(a)
            return math.sin(a), c * ax, c * ay, ""
        if op == "cos":
            s = -math.sin(a)
            return math.cos(a), s * ax, s * ay, ""
        if op == "tan":
            v = math.tan(a)
            k = 1.0 + v * v
            return v, k * ax, k * ay, ""
        if op == "exp":
            v = math.exp(a)
            return v, v * ax, v * ay, ""
        if op == "log":
            if a < 0.0:
                return math.nan, math.nan, math.nan, "the log of a negative number"
            if a == 0.0:
                return -math.inf, math.nan, math.nan, "the log of 0"
            k = 1.0 / a
            return math.log(a), k * ax, k * ay, ""
        if op == "sqrt":
            if a < 0.0:
                return math.nan, math.nan, math.nan, "the square root of a negative number"
            v = math.sqrt(a)
            if v == 0.0:
                return 0.0, math.nan, math.nan, "the slope of sqrt at 0 (infinite)"
            k = 1.0 / (2.0 * v)
            return v, k * ax, k * ay, ""
        if op == "abs":
            s = 1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0
            return abs(a), s * ax, s * ay, ""
        if op == "tanh":
            v = math.tanh(a)
            k = 1.0 - v * v
            return v, k * ax, k * ay, ""
        if op == "sinh":
            c = math.cosh(a)
            return math.sinh(a), c * ax, c * ay, ""
        if op == "cosh":
            s = math.sinh(a)
            return math.cosh(a), s * ax, s * ay, ""
        if op in ("atan", "arctan"):
            k = 1.0 / (1.0 + a * a)
            return math.atan(a), k * ax, k * ay, ""
        if op == "min":
            return (b, bx, by, "") if b < a else (a, ax, ay, "")
        if op == "max":
            return (b, bx, by, "") if b > a else (a, ax, ay, "")
    except OverflowError:
        return math.inf, math.nan, math.nan, f"an overflow in {op}"
    except ValueError:
        return math.nan, math.nan, math.nan, f"undefined in {op}"
    raise AssertionError(op)


def _pow(a: float, b: float) -> float:
    """C's pow, as the kernel calls it: inf (not an exception) for 0 to a negative power or an overflow."""
    try:
        return math.pow(a, b)
    except (ValueError, OverflowError):
        if a == 0.0:
            odd = b == math.floor(b) and math.fmod(b, 2.0) != 0.0
            return math.copysign(math.inf, a) if odd else math.inf
        return math.inf if abs(a) > 1.0 or b < 0 else math.nan


def _div(p: float, q: float) -> float:
    """IEEE division, as the kernel's (0/0 is NaN, x/0 infinite)."""
    if q == 0.0:
        if p == 0.0 or math.isnan(p):
            return math.nan
        return math.copysign(math.inf, p) * math.copysign(1.0, q)
    return p / q


def evaluate(tree: Node, x: float, y: float) -> tuple[float, float, float, str]:
    """(f, df/dx, df/dy) at (x, y) in Python floats, and what first became undefined or infinite on the way (the
    operation and its arguments), "" where nothing did."""
    problems: list[str] = []

    def walk(node: Node) -> tuple[float, float, float]:
        if node.op == "num":
            return node.value, 0.0, 0.0
        if node.op == "x":
            return x, 1.0, 0.0
        if node.op == "y":
            return y, 0.0, 1.0
        args = [walk(arg) for arg in node.args]
        op = "sqr" if _is_square(node) else node.op
        v, vx, vy, problem = _apply(op, args[:1] if op == "sqr" else args)
        if not problems and (problem or not (math.isfinite(v) and math.isfinite(vx) and math.isfinite(vy))):
            shown = ", ".join(_number(a[0]) for a in args)
            problems.append(f"{problem or ('an overflow' if not math.isfinite(v) else 'an infinite slope')} in "
                            f"{to_text(node)} ({_name(node)} of {shown})")
        return v, vx, vy

    v, vx, vy = walk(tree)
    return v, vx, vy, problems[0] if problems else ""


def _number(value: float) -> str:
    return f"{value:.6g}"


def _name(node: Node) -> str:
    return {"neg": "minus", "+": "sum", "-": "difference", "*": "product", "/": "quotient", "^": "power"}.get(
        node.op, node.op)


def _is_square(node: Node) -> bool:
    """``a^2``: compiled as a * a (what a built-in surface's source does), not as pow(a, 2)."""
    return node.op == "^" and node.args[1].op == "num" and node.args[1].value == 2.0


# ---- the program --------------------------------------------------------------------------------------------------

def compile_program(tree: Node) -> np.ndarray:
    """The program the kernel runs: ``[length, stack size, ops..., scratch...]`` as float64. Each op is an opcode;
    CONST is followed by its value. The scratch (3 × stack size) holds the stack of values and of the two
    partial derivatives while it runs (the kernel's own copy of the array: the surface hands out a fresh one)."""
    ops: list[float] = []
    depth = [0, 0]  # current, deepest

    def push(n: int) -> None:
        depth[0] += n
        depth[1] = max(depth[1], depth[0])

    def emit(node: Node) -> None:
        if node.op == "num":
            ops.extend((CONST, node.value))
            push(1)
        elif node.op == "x":
            ops.append(X)
            push(1)
        elif node.op == "y":
            ops.append(Y)
            push(1)
        elif _is_square(node):
            emit(node.args[0])
            ops.append(SQR)
        elif node.op == "neg":
            emit(node.args[0])
            ops.append(NEG)
        elif node.op in _UNARY:
            emit(node.args[0])
            ops.append(_UNARY[node.op])
        else:
            emit(node.args[0])
            emit(node.args[1])
            ops.append(_BINARY[node.op])
            push(-1)

    emit(tree)
    stack = depth[1]
    if stack > MAX_STACK:
        raise ExpressionError(f"the function needs a stack of {stack}; at most {MAX_STACK}")
    return np.array([float(len(ops)), float(stack), *ops, *([0.0] * (3 * stack))], dtype=np.float64)


# ---- text and LaTeX ------------------------------------------------------------------------------------------------

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4}


def to_text(node: Node) -> str:
    """The tree written back as text (what the messages quote)."""
    return _write(node, latex=False)


def to_latex(node: Node) -> str:
    """The tree in LaTeX, as typed (its parentheses where precedence needs them)."""
    return _write(node, latex=True)


def _write(node: Node, latex: bool, parent: int = 0, right: bool = False) -> str:
    op = node.op
    if op == "num":
        if node.text in CONSTANTS:
            return r"\pi" if (latex and node.text == "pi") else node.text
        text = node.text or repr(node.value)
        if latex and ("e" in text.lower()):
            mantissa, _, exponent = text.lower().partition("e")
            return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
        return text
    if op in ("x", "y"):
        return op
    if op in _UNARY or op in FUNCTIONS_2:
        args = ", ".join(_write(a, latex) for a in node.args)
        if latex:
            if op == "sqrt":
                return rf"\sqrt{{{args}}}"
            if op == "abs":
                return rf"\left|{args}\right|"
            name = {"arctan": r"\arctan", "atan": r"\arctan"}.get(op, rf"\{op}" if op in (
                "sin", "cos", "tan", "exp", "log", "tanh", "sinh", "cosh", "min", "max") else rf"\operatorname{{{op}}}")
            return rf"{name}\left({args}\right)"
        return f"{op}({args})"
    mine = _PRECEDENCE[op]
    if op == "neg":
        inner = _write(node.args[0], latex, mine)
        text = f"-{inner}"
    elif op == "^":
        base = _write(node.args[0], latex, mine + 1)  # (a^b)^c keeps its parentheses
        exponent = _write(node.args[1], latex, 0 if latex else mine, right=True)
        text = f"{{{base}}}^{{{exponent}}}" if latex else f"{base}^{exponent}"
    elif op == "/" and latex:
        return rf"\frac{{{_write(node.args[0], latex)}}}{{{_write(node.args[1], latex)}}}"
    else:
        a = _write(node.args[0], latex, mine)
        b = _write(node.args[1], latex, mine, right=True)
        sign = {"*": r" \cdot " if latex else "*"}.get(op, f" {op} ")
        text = f"{a}{sign}{b}"
    needs = mine < parent or (right and mine == parent and op in "+-*/")
    if needs:
        return rf"\left({text}\right)" if latex else f"({text})"
    return text


_TORCH = {"sin": "torch.sin", "cos": "torch.cos", "tan": "torch.tan", "exp": "torch.exp", "log": "torch.log",
          "sqrt": "torch.sqrt", "abs": "torch.abs", "tanh": "torch.tanh", "sinh": "torch.sinh", "cosh": "torch.cosh",
          "arctan": "torch.atan", "atan": "torch.atan", "min": "torch.minimum", "max": "torch.maximum"}


def to_torch(node: Node) -> str:
    """The tree as a Python expression of torch operations on float64 tensors ``x`` and ``y`` (for the PyTorch
    script): the same operations, ``a^2`` as ``a * a`` as the kernel computes it."""
    op = node.op
    if op == "num":
        return {"pi": "math.pi", "e": "math.e"}.get(node.text, repr(node.value))
    if op in ("x", "y"):
        return op
    args = [to_torch(a) for a in node.args]
    if op == "neg":
        return f"(-{args[0]})"
    if _is_square(node):
        return f"({args[0]} * {args[0]})"
    if op == "^":
        return f"torch.pow({args[0]}, {args[1]})"
    if op in "+-*/":
        return f"({args[0]} {op} {args[1]})"
    # the arguments as tensors: torch's functions take no plain numbers (sin(2), max(x, 0))
    tensors = [a if _has_xy(n) else f"torch.tensor({a}, dtype=torch.float64)" for a, n in zip(args, node.args,
                                                                                            strict=True)]
    return f"{_TORCH[op]}({', '.join(tensors)})"


def _has_xy(node: Node) -> bool:
    return node.op in ("x", "y") or any(_has_xy(a) for a in node.args)

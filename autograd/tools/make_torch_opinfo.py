#!/usr/bin/env python3
"""PyTorch reference fixtures for TorchOpInfoTest: Tessera's public ops compared with torch, OpInfo style.

Run by hand where torch is installed (never in CI; the fixtures are committed), from the repository root:

    ~/venvs/peers/bin/python autograd/tools/make_torch_opinfo.py

It writes two files under autograd/src/test/resources/torch-opinfo/:

  tensors.safetensors  every input ("cN.inI"), output ("cN.outJ"), upstream gradient ("cN.upJ") and input
                       gradient ("cN.gradI") of every case, contiguous, by name. The Java test memory-maps it
                       with SafeTensors.read, so each case runs once on mapped storage and once on a heap copy.
  cases.json           the manifest: {"torch": version, "cases": [...], "skipped": [...]}. A case is
                       {"name", "op", "args", "inputs": [{"t": tensor, "view": recipe}], "outputs": [...],
                        "tol": class, "signedZero": bool, "grad": {"upstream": [...], "grads": [...], "tol": class}
                        or null, "error": message or null, "note": text or null}. Tolerance classes are defined in
                        TorchOpInfoTest; "error" cases expect both libraries to reject the inputs.
                       A view recipe is a list of steps applied to the stored (contiguous) tensor to make the op's
                       real input: ["transpose", d0, d1], ["permute", [dims]], ["slice", dim, start, end, step],
                       ["expand", [sizes]], ["unsqueeze", dim], ["select", dim, index], ["diagonal", off, d1, d2].
                       Gradients are of sum(out * upstream) with respect to each floating input as the op saw it
                       (after the view), in F64. Non-finite numbers in args are the strings "inf", "-inf", "nan".
                       "skipped" lists what torch itself rejects (so there is nothing to compare).

Op names are Tessera's method names; each maps to the torch expression with the same meaning in TORCH below,
and to Tessera's call in TorchOpInfoOps.java. Expected values are torch's, except where a case's note says
otherwise, for a documented difference or a torch approximation:
  - unary ops on F32, half and integer inputs: torch computed in F64, rounded to torch's output dtype;
  - softplus with threshold 40 (torch's default 20 returns x above 20, Tessera computes log(1 + e^x) exactly);
  - a scalar argument is a Python float (a Python int for an integral scalar on an integer tensor);
  - topk ties: torch.sort(stable=True)[:k] (torch.topk's tie order is unspecified; Tessera's is the stable one);
  - maskedSoftmax: a row with nothing allowed is zeros; SwiGlu computes in F32 (F64 for F64) and rounds once;
  - scatter without duplicate positions (torch leaves the winner unspecified);
  - unary/gelu/F64/edge and unary/geluTanh/F64/edge: the exact values (50-digit mpmath), since torch's F64
    ½x(1 + erf(x/√2)) and ½x(1 + tanh u) cancel for negative x (1.2e-13 and 3e-13 relative off at x = -3.75, -0 at
    x = -20.5 for -2.2e-92 and -1.4e-280) where Tessera's ½x·erfc(-x/√2) and x·σ(2u) do not; gradients are torch's;
  - reduce/logsumexp/F64/edge-overflow: the gradient is the exact softmax(x) ([½, ½] for two tied 1e308 entries);
    torch's exp(x - logsumexp(x)) gives 1 each there, because logsumexp = 1e308 + ln 2 rounds to 1e308;
  - softmax/logSoftmax/F32/logits-large: torch in F64 rounded to F32, since torch's F32 kernel sums the exponentials
    in F32, so log(1 + 4.54e-5) for the row [700, 710, 720, -745] comes out 3.7e-4 relative off (Tessera sums in
    double and gives torch's F64 value, rounded).
"""
import json
import math
import pathlib

import mpmath
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "src" / "test" / "resources" / "torch-opinfo"

F64, F32, BF16, F16 = torch.float64, torch.float32, torch.bfloat16, torch.float16
I32, I64, BOOL = torch.int32, torch.int64, torch.bool
NAMES = {F64: "F64", F32: "F32", BF16: "BF16", F16: "F16", I32: "I32", I64: "I64", BOOL: "BOOL"}
BY_NAME = {v: k for k, v in NAMES.items()}
FLOATS = [F64, F32, BF16, F16]
INF, NAN = math.inf, math.nan

G = torch.Generator().manual_seed(20240611)

# Values where implementations tend to part ways: signed zeros, ±1, ties at .5, the F32 and F64 exp overflow and
# underflow thresholds, the softplus threshold (20), huge and tiny (subnormal) magnitudes, ±inf and NaN. One list
# for every float dtype: casting it to F32/BF16/F16 gives that type's overflow (inf) and underflow (subnormal/0).
EDGE = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.75, -3.75, 0.1, math.pi, 1e-8, -1e-8, 20.5, -20.5, 50.0,
        -50.0, 88.72, 89.0, -87.5, -104.5, 700.0, 710.0, -745.5, 1e7, 1e15, 1e30, -1e30, 1.7e38, 3e38, -3e38,
        3.4028234663852886e38, 1e300, -1e300, 1.7976931348623157e308, -1.7976931348623157e308, 1.1754943508222875e-38,
        1e-40, 1.401298464324817e-45, 2.2250738585072014e-308, 1e-310, 5e-324, -5e-324, 1e-300, 65504.0, 70000.0,
        6e-8, 1.0000000000000002, 0.9999999999999999, INF, -INF, NAN]
# A smaller set for the pairwise grid of binary ops (16 x 16 pairs, by broadcasting (16, 1) against (16,)).
GRID = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.75, 1e30, -1e-40, 5e-324, INF, -INF, NAN]


def num(v):
    """JSON has no inf/NaN: write them as strings, everything else as a number."""
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def rand(shape, lo=-2.0, hi=2.0, dtype=F64):
    return (torch.rand(shape, generator=G, dtype=F64) * (hi - lo) + lo).to(dtype)


def randint(shape, lo, hi, dtype=I64):
    return torch.randint(lo, hi, shape, generator=G, dtype=I64).to(dtype)


def edge(dtype, values=EDGE):
    return torch.tensor(values, dtype=F64).to(dtype)


def laid(make, shape, how):
    """(stored base, view recipe) giving a tensor of `shape` laid out as `how`, with values from make(base_shape)."""
    shape = list(shape)
    if how == "contig" or len(shape) == 0:
        return make(shape), []
    if how == "T" and len(shape) >= 2:  # a transpose of the last two dims
        return make(shape[:-2] + [shape[-1], shape[-2]]), [["transpose", -1, -2]]
    if how == "step":  # every other element of the last dim, starting at 1 (so the offset is non-zero)
        return make(shape[:-1] + [2 * shape[-1] + 1]), [["slice", -1, 1, 2 * shape[-1] + 1, 2]]
    if how == "expand":  # a stride-0 leading dim
        return make([1] + shape[1:]), [["expand", shape]]
    raise ValueError(how)


def apply_view(t, recipe):
    for step in recipe:
        kind, p = step[0], step[1:]
        if kind == "transpose":
            t = t.transpose(p[0], p[1])
        elif kind == "permute":
            t = t.permute(*p[0])
        elif kind == "slice":
            idx = [slice(None)] * t.dim()
            idx[p[0]] = slice(p[1], p[2], p[3])
            t = t[tuple(idx)]
        elif kind == "expand":
            t = t.expand(*p[0])
        elif kind == "unsqueeze":
            t = t.unsqueeze(p[0])
        elif kind == "select":
            t = t.select(p[0], p[1])
        elif kind == "diagonal":
            t = t.diagonal(p[0], p[1], p[2])
        else:
            raise ValueError(kind)
    return t


# ------------------------------------------------------------------------------------------ torch semantics of each op

def dims_of(x, a):
    """Tessera's dims argument: empty means every dim."""
    d = a.get("dims", [])
    return tuple(d) if d else tuple(range(x.dim()))


def reduce_each(fn, x, dims, keep):
    """Reduces one dim at a time (for torch ops that take a single dim, like prod)."""
    if x.dim() == 0:
        return fn(x, 0, keep)
    nd = sorted(d % x.dim() for d in dims)
    for d in reversed(nd):
        x = fn(x, d, True)
    return x if keep else x.reshape([s for i, s in enumerate(x.shape) if i not in nd])


def integral(s):
    return math.isfinite(s) and s == math.floor(s)


def py_scalar(x, s):
    """Tessera's x.op(double s) as torch's x.op(s): an integral s on an integer tensor acts as a Python int (keeps
    the integer dtype, Tessera's documented choice: Java passes both 3 and 3.0 as a double); otherwise a Python float
    (torch's "wrapped number": it does not change a float tensor's dtype and is not rounded to it first)."""
    return int(s) if not x.is_floating_point() and integral(s) else s


def scalar_like(x, s):
    """A 0-d tensor like Tessera's scalarLike (x's dtype, F32 for a fractional s on an integer tensor), for the ops
    torch takes no Python scalar for (maximum, minimum)."""
    return torch.tensor(s, dtype=x.dtype if x.is_floating_point() or integral(s) else F32)


def complex_of(x):
    return torch.complex(x[..., 0], x[..., 1])


def masked_softmax(x, allowed, scale):
    y = torch.softmax(torch.where(allowed, x * scale, torch.tensor(-INF, dtype=x.dtype)), -1)
    return torch.where(allowed.expand(x.shape).any(-1, keepdim=True), y, torch.zeros((), dtype=x.dtype))


def swiglu(a, b):
    """SwiGlu.forward: silu(a) * b computed in F64 for F64 gates, else in F32, rounded once to the result type."""
    c = F64 if a.dtype == F64 else F32
    return (F.silu(a.to(c)) * b.to(c)).to(torch.promote_types(a.dtype, b.dtype))


def swiglu_backward(a, b, g):
    """SwiGlu.backward: {dL/da, dL/db} computed in the forward's compute type, returned in a's and b's dtypes."""
    c = F64 if a.dtype == F64 else F32
    ac, bc = a.detach().to(c).requires_grad_(), b.detach().to(c).requires_grad_()
    ga, gb = torch.autograd.grad(F.silu(ac) * bc, (ac, bc), g.to(c))
    return ga.to(a.dtype), gb.to(b.dtype)


UNARY = {
    "neg": torch.neg, "exp": torch.exp, "log": torch.log, "log1p": torch.log1p, "expm1": torch.expm1,
    "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "abs": torch.abs, "sign": torch.sign, "sin": torch.sin, "cos": torch.cos,
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "gelu": F.gelu,
    "geluTanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu,
    # torch's default threshold (20) returns x above 20, off by up to 2e-9 relative in F64 where Tessera computes
    # log(1 + e^x) exactly; at 40, e^-x is below F64 resolution, so this is torch's exact softplus
    "softplus": lambda x: F.softplus(x, threshold=40.0), "erf": torch.erf,
    "square": torch.square, "reciprocal": torch.reciprocal, "logicalNot": torch.logical_not,
}
BINARY = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
    "maximum": torch.maximum, "minimum": torch.minimum, "eq": torch.eq, "ne": torch.ne, "lt": torch.lt,
    "le": torch.le, "gt": torch.gt, "ge": torch.ge, "logicalAnd": torch.logical_and, "logicalOr": torch.logical_or,
}
SCALAR = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
          "maximum": lambda x, s: torch.maximum(x, scalar_like(x, s)), "minimum": lambda x, s: torch.minimum(x, scalar_like(x, s)),
          "eq": torch.eq, "lt": torch.lt, "gt": torch.gt}

TORCH = {}
for _n, _f in UNARY.items():
    TORCH[_n] = lambda x, a, f=_f: f(x[0])
for _n, _f in BINARY.items():
    TORCH[_n] = lambda x, a, f=_f: f(x[0], x[1])
for _n, _f in SCALAR.items():
    TORCH[_n + "Scalar"] = lambda x, a, f=_f: f(x[0], py_scalar(x[0], float(a["scalar"])))
TORCH.update({
    # Variable's scalar forms lift the scalar to a 0-d tensor of the variable's dtype; rsub is s - x
    "rsub": lambda x, a: torch.tensor(float(a["scalar"]), dtype=x[0].dtype) - x[0],
    "where": lambda x, a: torch.where(x[0], x[1], x[2]),
    "maskedFill": lambda x, a: x[0].masked_fill(x[1], float(a["value"])),
    "clamp": lambda x, a: torch.clamp(x[0], min=None if math.isnan(float(a["min"])) else py_scalar(x[0], float(a["min"])),
                                      max=None if math.isnan(float(a["max"])) else py_scalar(x[0], float(a["max"]))),
    # reductions (dims [] = all)
    "sum": lambda x, a: torch.sum(x[0], dim=dims_of(x[0], a), keepdim=a["keepDim"]),
    "prod": lambda x, a: reduce_each(lambda t, d, k: torch.prod(t, d, keepdim=k), x[0], dims_of(x[0], a), a["keepDim"]),
    "max": lambda x, a: torch.amax(x[0], dim=dims_of(x[0], a), keepdim=a["keepDim"]),
    "min": lambda x, a: torch.amin(x[0], dim=dims_of(x[0], a), keepdim=a["keepDim"]),
    "mean": lambda x, a: torch.mean(x[0], dim=dims_of(x[0], a), keepdim=a["keepDim"]),
    "var": lambda x, a: torch.var(x[0], dim=dims_of(x[0], a), correction=a["correction"], keepdim=a["keepDim"]),
    "std": lambda x, a: torch.std(x[0], dim=dims_of(x[0], a), correction=a["correction"], keepdim=a["keepDim"]),
    "logsumexp": lambda x, a: torch.logsumexp(x[0], dim=dims_of(x[0], a), keepdim=a["keepDim"]),
    "norm": lambda x, a: torch.linalg.vector_norm(x[0], ord=float(a["p"]), dim=dims_of(x[0], a), keepdim=a["keepDim"]),
    "argmax": lambda x, a: torch.argmax(x[0], dim=a["dim"], keepdim=a["keepDim"]),
    "argmin": lambda x, a: torch.argmin(x[0], dim=a["dim"], keepdim=a["keepDim"]),
    "cumsum": lambda x, a: torch.cumsum(x[0], dim=a["dim"]),
    "softmax": lambda x, a: torch.softmax(x[0], dim=a["dim"]),
    "logSoftmax": lambda x, a: torch.log_softmax(x[0], dim=a["dim"]),
    "maskedSoftmax": lambda x, a: masked_softmax(x[0], x[1], float(a["scale"])),
    "softmaxBackward": lambda x, a: torch._softmax_backward_data(x[1], x[0], -1, x[0].dtype) * float(a["scale"]),
    "swiGlu": lambda x, a: swiglu(x[0], x[1]),
    "swiGluBackward": lambda x, a: swiglu_backward(x[0], x[1], x[2]),
    # linear algebra
    "matmul": lambda x, a: torch.matmul(x[0], x[1]),
    # views and copies
    "view": lambda x, a: x[0].view(a["shape"]),
    "reshape": lambda x, a: x[0].reshape(a["shape"]),
    "permute": lambda x, a: x[0].permute(a["dims"]),
    "transpose": lambda x, a: x[0].transpose(a["dim0"], a["dim1"]),
    "mT": lambda x, a: x[0].mT,
    "squeezeAll": lambda x, a: x[0].squeeze(),
    "squeeze": lambda x, a: x[0].squeeze(a["dim"]),
    "unsqueeze": lambda x, a: x[0].unsqueeze(a["dim"]),
    "expand": lambda x, a: x[0].expand(a["sizes"]),
    "expandAs": lambda x, a: x[0].expand_as(x[1]),
    "narrow": lambda x, a: x[0].narrow(a["dim"], a["start"], a["length"]),
    "slice": lambda x, a: apply_view(x[0], [["slice", a["dim"], a["start"], a["end"], a["step"]]]),
    "select": lambda x, a: x[0].select(a["dim"], a["index"]),
    "flattenAll": lambda x, a: x[0].flatten(),
    "flatten": lambda x, a: x[0].flatten(a["start"], a["end"]),
    "unflatten": lambda x, a: x[0].unflatten(a["dim"], a["sizes"]),
    "split": lambda x, a: torch.split(x[0], a["size"], a["dim"]),
    "splitSizes": lambda x, a: torch.split(x[0], a["sizes"], a["dim"]),
    "chunk": lambda x, a: torch.chunk(x[0], a["chunks"], a["dim"]),
    "diagonal": lambda x, a: x[0].diagonal(a["offset"], a["dim1"], a["dim2"]),
    "contiguous": lambda x, a: x[0].contiguous(),
    "copy": lambda x, a: x[0].clone(),
    "to": lambda x, a: x[0].to(BY_NAME[a["dtype"]]),
    "cat": lambda x, a: torch.cat(x, a["dim"]),
    "stack": lambda x, a: torch.stack(x, a["dim"]),
    "asStrided": lambda x, a: torch.as_strided(x[0], a["shape"], a["strides"], a["offset"]),
    # indexing
    "indexSelect": lambda x, a: torch.index_select(x[0], a["dim"], x[1]),
    "gather": lambda x, a: torch.gather(x[0], a["dim"], x[1]),
    "scatter": lambda x, a: torch.scatter(x[0], a["dim"], x[1], x[2]),
    "scatterValue": lambda x, a: torch.scatter(x[0], a["dim"], x[1], float(a["value"])),
    "scatterAdd": lambda x, a: torch.scatter_add(x[0], a["dim"], x[1], x[2]),
    "embedding": lambda x, a: F.embedding(x[1], x[0]),
    "oneHot": lambda x, a: F.one_hot(x[0], a["numClasses"]),
    "sort": lambda x, a: tuple(torch.sort(x[0], dim=a["dim"], descending=a["descending"], stable=True)),
    "argsort": lambda x, a: torch.argsort(x[0], dim=a["dim"], descending=a["descending"], stable=True),
    "topk": lambda x, a: tuple(torch.topk(x[0], a["k"], dim=a["dim"], largest=a["largest"], sorted=True)),
    "tril": lambda x, a: torch.tril(x[0], a["diagonal"]),
    "triu": lambda x, a: torch.triu(x[0], a["diagonal"]),
    "trilMask": lambda x, a: torch.ones(a["rows"], a["cols"], dtype=BOOL).tril(a["diagonal"]),
    # spectral, complex as a trailing (real, imag) dim
    "rfft": lambda x, a: torch.view_as_real(torch.fft.rfft(x[0], dim=a["dim"])),
    "irfft": lambda x, a: torch.fft.irfft(complex_of(x[0]), n=None if a["n"] == -1 else a["n"], dim=a["dim"]),
    "fft": lambda x, a: torch.view_as_real(torch.fft.fft(complex_of(x[0]), dim=a["dim"])),
    "ifft": lambda x, a: torch.view_as_real(torch.fft.ifft(complex_of(x[0]), dim=a["dim"])),
    # factories
    "arange": lambda x, a: torch.arange(float(a["start"]), float(a["end"]), float(a["step"]), dtype=BY_NAME[a["dtype"]]),
    "linspace": lambda x, a: torch.linspace(float(a["start"]), float(a["end"]), a["steps"], dtype=BY_NAME[a["dtype"]]),
    "eye": lambda x, a: torch.eye(a["n"], dtype=BY_NAME[a["dtype"]]),
    "full": lambda x, a: torch.full(a["shape"], float(a["value"]), dtype=BY_NAME[a["dtype"]]),
    # in place (Tessera runs these on a heap copy of the input: mapped storage is read-only)
    "addInPlace": lambda x, a: x[0].clone().add_(x[1]),
    "subInPlace": lambda x, a: x[0].clone().sub_(x[1]),
    "mulInPlace": lambda x, a: x[0].clone().mul_(x[1]),
    "divInPlace": lambda x, a: x[0].clone().div_(x[1]),
    "addScalarInPlace": lambda x, a: x[0].clone().add_(py_scalar(x[0], float(a["scalar"]))),
    "mulScalarInPlace": lambda x, a: x[0].clone().mul_(py_scalar(x[0], float(a["scalar"]))),
    "expInPlace": lambda x, a: x[0].clone().exp_(),
    "expInto": lambda x, a: torch.exp(x[0]),
    "fillInPlace": lambda x, a: x[0].clone().fill_(float(a["value"])),
    "copyFromInPlace": lambda x, a: x[0].clone().copy_(x[1]),
    "varAddInPlace": lambda x, a: (x[0] * 1).add_(x[1]),
    "varMulInPlace": lambda x, a: (x[0] * 1).mul_(x[1]),
    "varMulScalarInPlace": lambda x, a: (x[0] * 1).mul_(float(a["scalar"])),
    "varExpInPlace": lambda x, a: (x[0] * 1).exp_(),
})

# ------------------------------------------------------------------------------------------ tolerance classes

# Correctly rounded in both libraries (one IEEE operation, in F32 for halves, then one rounding), or no arithmetic
EXACT_OPS = {"neg", "abs", "sign", "relu", "square", "where", "maskedFill", "clamp", "max", "min", "argmax", "argmin",
             "sort", "argsort", "topk", "tril", "triu", "trilMask", "indexSelect", "gather", "scatter", "scatterValue",
             "embedding", "oneHot", "to", "cat", "stack", "asStrided", "copy", "contiguous", "eye", "full",
             "fillInPlace", "copyFromInPlace", "addInPlace", "subInPlace", "mulInPlace", "divInPlace", "logicalNot",
             "rsub"}
EXACT_OPS |= {n + "Scalar" for n in SCALAR if n != "pow"} | {n for n in BINARY if n != "pow"}
VIEW_OPS = {"view", "reshape", "permute", "transpose", "mT", "squeezeAll", "squeeze", "unsqueeze", "expand", "expandAs",
            "narrow", "slice", "select", "flattenAll", "flatten", "unflatten", "split", "splitSizes", "chunk", "diagonal"}
EXACT_OPS |= VIEW_OPS
# Sums, whose error grows with the terms rather than the result: their atol scales with the largest |expected|.
# Not softmax and log_softmax: an exact shift by the row max keeps their error relative to each output.
ACCUMULATING = {"sum", "prod", "mean", "var", "std", "logsumexp", "norm", "cumsum", "softmaxBackward", "matmul",
                "rfft", "irfft", "fft", "ifft", "scatterAdd", "arange", "linspace", "swiGluBackward"}
# ops whose sign of zero is part of the answer (odd functions, copies); elsewhere -0 and +0 compare equal
SIGNED_ZERO = {"neg", "sin", "tanh", "expm1", "log1p", "erf", "sqrt", "mul", "div", "where", "maskedFill", "to",
               "cat", "stack", "copy", "contiguous", "asStrided", "gather", "indexSelect", "embedding"} | VIEW_OPS


def tol_class(op, out_dtype):
    if not out_dtype.is_floating_point:
        return "exact"
    if op in ("gelu", "geluTanh") and out_dtype == F32:
        return "f32gelu"  # x * (1 + erf or tanh) cancels for negative x: F32 error is about eps * |x|, not eps * |y|
    if op in EXACT_OPS:
        return "exact"
    kind = "sum" if op in ACCUMULATING else ""
    return {F64: "f64", F32: "f32", BF16: "bf16", F16: "f16"}[out_dtype] + kind


# ------------------------------------------------------------------------------------------ recording cases

class Fixtures:
    def __init__(self):
        self.tensors = {}
        self.cases = []
        self.skipped = []
        self.names = set()

    def put(self, name, t):
        self.tensors[name] = t.detach().clone().contiguous()
        return name

    def case(self, name, op, inputs, args=None, grad=False, note=None, expected=None, error=False, upstream=None,
             grad_tol="grad"):
        """One case. inputs: tensors or (base, view recipe) pairs. expected: a function replacing TORCH[op] for the
        expected outputs (the note says why). error: torch must reject the inputs, and so must Tessera. grad: also
        record F64 gradients of sum(out * upstream), upstream random in [-1, 1) unless given; grad_tol "grad" scales
        the gradient atol by the largest |gradient|, "gradStrict" compares each element on its own."""
        assert name not in self.names, name
        self.names.add(name)
        args = dict(args or {})
        pairs = [i if isinstance(i, tuple) else (i, []) for i in inputs]
        cid = "c%d" % len(self.cases)
        xs = [apply_view(b, v) for b, v in pairs]
        if grad:
            xs = [x.detach().requires_grad_() if x.is_floating_point() else x for x in xs]
        try:
            out = (expected or TORCH[op])(xs, args)
        except Exception as e:  # noqa: BLE001 - torch's rejection is the expected answer, or a gap to list
            msg = str(e).strip().splitlines()[0][:200]
            if not error:
                self.skipped.append({"name": name, "reason": msg})
                return
            out = None
        if error and out is not None:
            raise AssertionError(name + ": expected torch to reject this")
        entry = {"name": name, "op": op, "args": {k: num(v) for k, v in args.items()},
                 "inputs": [{"t": self.put("%s.in%d" % (cid, i), b), "view": v} for i, (b, v) in enumerate(pairs)],
                 "outputs": [], "tol": None, "signedZero": False, "grad": None, "error": None, "note": note}
        if error:
            entry["error"] = msg
            self.cases.append(entry)
            return
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        entry["outputs"] = [self.put("%s.out%d" % (cid, j), o) for j, o in enumerate(outs)]
        entry["tol"] = tol_class(op, outs[0].dtype)
        entry["signedZero"] = op in SIGNED_ZERO
        if grad:
            leaves = [x for x in xs if x.is_floating_point()]
            ups = upstream or [rand(o.shape, -1.0, 1.0, o.dtype) for o in outs]
            try:
                gs = torch.autograd.grad(outs, leaves, ups, allow_unused=True)
            except Exception as e:  # noqa: BLE001
                self.skipped.append({"name": name + " (gradient)", "reason": str(e).strip().splitlines()[0][:200]})
                gs = None
            if gs is not None:
                gs = iter(gs)
                names = []
                for i, x in enumerate(xs):
                    if x.is_floating_point():
                        g = next(gs)
                        names.append(self.put("%s.grad%d" % (cid, i), torch.zeros_like(x) if g is None else g))
                    else:
                        names.append(None)
                entry["grad"] = {"upstream": [self.put("%s.up%d" % (cid, j), u) for j, u in enumerate(ups)],
                                 "grads": names, "tol": grad_tol}
        self.cases.append(entry)


FX = Fixtures()


# ------------------------------------------------------------------------------------------ the cases, by family

DOMAIN = {"log": (0.2, 3.0), "sqrt": (0.2, 3.0), "rsqrt": (0.2, 3.0), "reciprocal": (0.2, 3.0), "log1p": (-0.8, 3.0)}
INT_UNARY_RANGE = {I32: (-1000, 1000), I64: (-3_000_000_000 // 1000, 3_000_000_000 // 1000)}


def in_f64(op):
    """Expected values of a one-input op on F32, half or integer input: torch in F64, rounded to torch's output dtype.
    torch's own F32 and half kernels are approximations that are sometimes worse than Tessera's (F32 sqrt 1 ulp off,
    F32 gelu 4e-4 relative off at x = -3.75, BF16 erf(1e-8) = 0); the dtype still comes from torch's own kernel."""
    def expected(xs, a):
        native = TORCH[op](xs, a)  # also keeps torch's rejection of a dtype
        return TORCH[op]([xs[0].to(F64)], a).to(native.dtype)
    return expected


NOTE_F64 = "expected = torch in F64 rounded to the output dtype"


class _Valued(torch.autograd.Function):
    """Forward: `value` in place of `t`'s own; backward: t's gradient (torch's), unchanged."""

    @staticmethod
    def forward(ctx, t, value):
        return value.clone()

    @staticmethod
    def backward(ctx, g):
        return g, None


def _exact_gelu(op, x):
    """gelu (erf form) or gelu_tanh at the double x in 50-digit arithmetic, rounded to the nearest double; u uses
    the double 0.044715 (the constant both libraries hold) and the exact √(2/π). Below x = -40 both are under
    1e-340, so -0.0 (and mpmath is spared erfc(7e299))."""
    if x < -40:
        return -0.0
    with mpmath.workdps(50):
        v = mpmath.mpf(x)
        if op == "gelu":
            y = v / 2 * mpmath.erfc(-v / mpmath.sqrt(2))
        else:
            u = mpmath.sqrt(2 / mpmath.pi) * (v + mpmath.mpf(0.044715) * v ** 3)
            y = v / (1 + mpmath.exp(-2 * u))
        return float(mpmath.nstr(y, 40, min_fixed=1, max_fixed=0))


def exact_gelu(op):
    """F64 gelu / gelu_tanh with exact values at finite non-zero x (torch's at ±0, ±inf and NaN), torch's gradient."""
    def expected(xs, a):
        t = TORCH[op](xs, a)
        flat = [(_exact_gelu(op, x) if math.isfinite(x) and x != 0 else y)
                for x, y in zip(xs[0].detach().flatten().tolist(), t.detach().flatten().tolist())]
        return _Valued.apply(t, torch.tensor(flat, dtype=t.dtype).reshape(t.shape))
    return expected


NOTE_GELU_EXACT = ("expected = the exact value (50-digit mpmath): torch's F64 1/2 x (1 + erf or tanh) cancels for "
                   "negative x (1e-13 relative at -3.75, -0 at -20.5); the gradient is torch's")


class _LogsumexpSoftmaxGrad(torch.autograd.Function):
    """torch.logsumexp forward; backward g·softmax(x) over the reduced dims, shifted by the max (exact where
    torch's exp(x - logsumexp) is not: logsumexp rounds away ln 2 next to 1e308)."""

    @staticmethod
    def forward(ctx, x, dims, keep):
        ctx.save_for_backward(x)
        ctx.dims, ctx.keep = dims, keep
        return torch.logsumexp(x, dim=dims, keepdim=keep)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        e = torch.exp(x - x.amax(dim=ctx.dims, keepdim=True))
        w = e / e.sum(dim=ctx.dims, keepdim=True)
        if not ctx.keep:
            for d in sorted(d % x.dim() for d in ctx.dims):
                g = g.unsqueeze(d)
        return g * w, None, None


def logsumexp_softmax_grad(xs, a):
    return _LogsumexpSoftmaxGrad.apply(xs[0], dims_of(xs[0], a), a["keepDim"])


NOTE_LSE_OVERFLOW = ("gradient = the exact softmax(x) ([1/2, 1/2] for two tied 1e308 entries); torch's exp(x - lse) "
                     "gives 1 each because lse = 1e308 + ln 2 rounds to 1e308")


def unary_cases():
    for op in UNARY:
        ref = None if op == "logicalNot" else in_f64(op)
        note = None if ref is None else NOTE_F64
        lo, hi = DOMAIN.get(op, (-3.0, 3.0))
        r = lambda s, lo=lo, hi=hi, d=F64: rand(s, lo, hi, d)  # noqa: E731
        differentiable = op != "logicalNot"
        exact = op in ("gelu", "geluTanh")
        FX.case("unary/%s/F64/edge" % op, op, [edge(F64)], grad=differentiable, expected=exact_gelu(op) if exact else None,
                note=NOTE_GELU_EXACT if exact else None)
        for how, shape in (("T", (3, 5)), ("step", (3, 5)), ("expand", (4, 5))):
            FX.case("unary/%s/F64/%s" % (op, how), op, [laid(r, shape, how)], grad=differentiable)
        FX.case("unary/%s/F64/0d" % op, op, [r(())], grad=differentiable)
        for dt in (F32, BF16, F16):
            FX.case("unary/%s/%s/edge" % (op, NAMES[dt]), op, [edge(dt)], expected=ref, note=note)
            FX.case("unary/%s/%s/T" % (op, NAMES[dt]), op, [laid(lambda s, dt=dt: r(s, d=dt), (4, 9), "T")], expected=ref, note=note)
        FX.case("unary/%s/F32/tail67" % op, op, [r((67,), d=F32)], expected=ref, note=note)
        FX.case("unary/%s/F32/empty" % op, op, [torch.zeros(0, 3, dtype=F32)])
        for dt in (I32, I64):
            lo_i, hi_i = INT_UNARY_RANGE[dt]
            FX.case("unary/%s/%s/step" % (op, NAMES[dt]), op, [laid(lambda s, dt=dt: randint(s, lo_i, hi_i, dt), (3, 7), "step")],
                    expected=ref, note=note)
        FX.case("unary/%s/BOOL" % op, op, [randint((9,), 0, 2, BOOL)], expected=ref, note=note)


def binary_cases():
    grid = lambda dt: (edge(dt, GRID).reshape(16, 1), edge(dt, GRID))  # noqa: E731
    for op in BINARY:
        logical = op in ("logicalAnd", "logicalOr")
        differentiable = op in ("add", "sub", "mul", "div", "pow", "maximum", "minimum")
        pos = op == "pow"  # positive bases keep pow's gradient real away from the edge grid
        r = lambda s, d=F64: rand(s, 0.3 if pos else -2.0, 2.0, d)  # noqa: E731
        FX.case("binary/%s/F64/edgegrid" % op, op, list(grid(F64)), grad=differentiable)
        FX.case("binary/%s/F64/broadcast" % op, op, [r((2, 1, 4)), r((3, 1))], grad=differentiable)
        FX.case("binary/%s/F64/T-step" % op, op, [laid(r, (3, 4), "T"), laid(r, (3, 4), "step")], grad=differentiable)
        FX.case("binary/%s/F64/0d" % op, op, [r((4,)), r(())], grad=differentiable)
        FX.case("binary/%s/F64/ties" % op, op, [torch.tensor([1.0, -2.0, 3.0, 0.5], dtype=F64),
                                                torch.tensor([1.0, 2.0, 3.0, -0.5], dtype=F64)], grad=differentiable)
        for dt in (F32, BF16, F16):
            FX.case("binary/%s/%s/edgegrid" % (op, NAMES[dt]), op, list(grid(dt)))
            FX.case("binary/%s/%s/broadcast" % (op, NAMES[dt]), op, [r((4, 1, 17), dt), r((3, 17), dt)])
        FX.case("binary/%s/F32/T-T" % op, op, [laid(lambda s: r(s, F32), (5, 9), "T"), laid(lambda s: r(s, F32), (5, 9), "T")])
        ints = (lambda s, d: randint(s, 0, 6, d), lambda s, d: randint(s, 0, 4, d)) if pos else \
               (lambda s, d: randint(s, -100, 100, d), lambda s, d: randint(s, -100, 100, d))
        for dt in (I32, I64):
            FX.case("binary/%s/%s/broadcast" % (op, NAMES[dt]), op, [ints[0]((3, 1, 5), dt), ints[1]((4, 5), dt)])
        FX.case("binary/%s/I64/big" % op, op, [torch.tensor([2**40, -2**40, 2**62, 7], dtype=I64),
                                                torch.tensor([3, 2**40 + 1, 1, 0] if not pos else [1, 1, 1, 2], dtype=I64)])
        FX.case("binary/%s/BOOL" % op, op, [randint((3, 4), 0, 2, BOOL), randint((4,), 0, 2, BOOL)])
        for da, db in ((F32, F64), (BF16, F16), (I32, F32), (I64, I32), (BOOL, F32), (I32, BF16), (BOOL, I64)):
            ma = (lambda s, d=da: randint(s, 0, 5, d)) if not da.is_floating_point else (lambda s, d=da: r(s, d))
            mb = (lambda s, d=db: randint(s, 1, 4, d)) if not db.is_floating_point else (lambda s, d=db: r(s, d))
            FX.case("binary/%s/%s+%s" % (op, NAMES[da], NAMES[db]), op, [ma((2, 3)), mb((3,))])
        FX.case("binary/%s/F32/empty" % op, op, [torch.zeros(0, 3, dtype=F32), torch.ones(3, dtype=F32)])
        if not logical:
            FX.case("binary/%s/error-shapes" % op, op, [rand((2, 3)), rand((4,))], error=True)
    # pow's own grid of bases x exponents: integer, half-integer and infinite exponents, negative bases
    bases = torch.tensor([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 1e-300, 1e300, INF, -INF, NAN], dtype=F64)
    exps = torch.tensor([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.5, -0.5, 1.5, INF, -INF, NAN], dtype=F64)
    FX.case("binary/pow/F64/basesXexponents", "pow", [bases.reshape(-1, 1), exps], grad=True)
    FX.case("binary/pow/F32/basesXexponents", "pow", [bases.to(F32).reshape(-1, 1), exps.to(F32)])
    # elementwise (no broadcast), so each gradient belongs to one pair: d(0^0)/dx = 0 in torch, d(x^1)/dx at 0 = 1
    FX.case("binary/pow/F64/zero-base", "pow", [torch.tensor([0.0, -0.0, 0.0, 0.0, 2.0, -2.0], dtype=F64),
                                                torch.tensor([0.0, 0.0, 1.0, 2.0, 0.0, 0.0], dtype=F64)], grad=True)
    FX.case("scalar/pow/F64/zero-base", "powScalar", [torch.tensor([0.0, -0.0, 1.0, -2.0], dtype=F64)], {"scalar": 0.0}, grad=True)


def scalar_cases():
    for op in SCALAR:
        name = op + "Scalar"
        differentiable = op in ("add", "sub", "mul", "div", "pow")
        # not -0.5: torch computes x ** -0.5 as rsqrt(x), which departs from C's pow at -0 and -inf (rsqrt(-0) = -inf,
        # rsqrt(-inf) = NaN where pow gives +inf and +0); Tessera follows pow
        for s in (2.5, -1.5, 0.0, 3.0, INF, NAN):
            tag = str(num(s))
            base = (lambda sh: rand(sh, 0.3, 2.0)) if op == "pow" else (lambda sh: rand(sh))
            FX.case("scalar/%s/F64/%s" % (op, tag), name, [laid(base, (3, 4), "T")], {"scalar": s}, grad=differentiable)
            FX.case("scalar/%s/F32/edge/%s" % (op, tag), name, [edge(F32)], {"scalar": s})
            FX.case("scalar/%s/BF16/%s" % (op, tag), name, [rand((19,), dtype=BF16)], {"scalar": s})
            if math.isfinite(s):
                for dt in (I32, I64):
                    FX.case("scalar/%s/%s/%s" % (op, NAMES[dt], tag), name, [randint((11,), 0 if op == "pow" else -50, 50, dt)],
                            {"scalar": s})
        FX.case("scalar/%s/F16/0.1" % op, name, [rand((19,), dtype=F16)], {"scalar": 0.1})
        FX.case("scalar/%s/BF16/0.1" % op, name, [rand((19,), dtype=BF16)], {"scalar": 0.1})
    for s in (2.5, -1.0):
        FX.case("scalar/rsub/F64/%s" % s, "rsub", [rand((3, 4))], {"scalar": s}, grad=True)


def where_clamp_cases():
    for dt in FLOATS + [I32, I64, BOOL]:
        mk = (lambda s, d=dt: rand(s, dtype=d)) if dt.is_floating_point else (lambda s, d=dt: randint(s, -9, 9, d) if d != BOOL else randint(s, 0, 2, d))
        grad = dt == F64
        FX.case("where/where/%s/broadcast" % NAMES[dt], "where", [randint((3, 1), 0, 2, BOOL), mk((3, 4)), mk((4,))], grad=grad)
        FX.case("where/where/%s/T" % NAMES[dt], "where", [laid(lambda s: randint(s, 0, 2, BOOL), (4, 5), "T"),
                                                            laid(mk, (4, 5), "step"), mk(())], grad=grad)
        if dt != BOOL:
            FX.case("where/maskedFill/%s" % NAMES[dt], "maskedFill", [laid(mk, (3, 4), "T"), randint((4,), 0, 2, BOOL)],
                    {"value": -7.0}, grad=grad)
    FX.case("where/maskedFill/F32/-inf", "maskedFill", [rand((3, 4), dtype=F32), randint((3, 4), 0, 2, BOOL)], {"value": -INF})
    FX.case("where/where/F64/edge", "where", [randint((len(EDGE),), 0, 2, BOOL), edge(F64), edge(F64).flip(0)], grad=True)
    FX.case("where/where/F32+F64", "where", [randint((3, 4), 0, 2, BOOL), rand((3, 4), dtype=F32), rand((4,))])
    for lo, hi in ((-0.5, 0.5), (NAN, 0.25), (-0.25, NAN), (1.0, -1.0), (-INF, INF)):
        tag = "%s,%s" % (num(lo), num(hi))
        FX.case("where/clamp/F64/%s" % tag, "clamp", [laid(lambda s: rand(s), (3, 6), "step")], {"min": lo, "max": hi}, grad=True)
        FX.case("where/clamp/F32/edge/%s" % tag, "clamp", [edge(F32)], {"min": lo, "max": hi})
    FX.case("where/clamp/F64/at-bounds", "clamp", [torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0, NAN], dtype=F64)],
            {"min": -0.5, "max": 0.5}, grad=True)
    FX.case("where/clamp/BF16", "clamp", [rand((17,), dtype=BF16)], {"min": -0.3, "max": 0.7})
    FX.case("where/clamp/I32", "clamp", [randint((17,), -9, 9, I32)], {"min": -3.0, "max": 4.0})
    FX.case("where/clamp/I32/fractional", "clamp", [randint((17,), -9, 9, I32)], {"min": -2.5, "max": 4.5})


REDUCE_VARIANTS = [("all", [], False), ("all-keep", [], True), ("d1", [1], False), ("d-1-keep", [-1], True),
                   ("d0,2", [0, 2], False), ("d2,0-keep", [2, 0], True)]
REDUCE_ARGS = {"var": [{"correction": 1}, {"correction": 0}], "std": [{"correction": 1}, {"correction": 2}],
               "norm": [{"p": 2.0}, {"p": 1.0}, {"p": INF}, {"p": 3.0}, {"p": 0.5}]}


# Rows of edge values for reductions, by kind, so a failing case names one cause.
EDGE_ROWS = {
    "ties": torch.tensor([[1.0, 3.0, 3.0, 2.0], [-2.0, -7.0, -7.0, -2.0]], dtype=F64),
    "nan": torch.tensor([[NAN, 1.0, NAN, 2.0], [0.0, NAN, 1.0, 1.0]], dtype=F64),
    "inf": torch.tensor([[INF, -INF, 1.0, 0.0], [INF, INF, 2.0, 2.0]], dtype=F64),
    "all-neginf": torch.tensor([[-INF, -INF, -INF, -INF], [-INF, 1.0, 2.0, 3.0]], dtype=F64),
    "zeros": torch.tensor([[0.0, -0.0, -0.0, 0.0], [0.0, 1.5, 2.0, -3.0], [0.0, 0.0, 3.0, 4.0]], dtype=F64),
    "overflow": torch.tensor([[1e308, 1e308, -1.0, 5e-324], [1e200, 1e200, 1e-200, 1.0]], dtype=F64),
}
# Rows of logits for softmax and log_softmax, likewise
LOGIT_ROWS = {
    "large": torch.tensor([[1000.0, -1000.0, 0.0, 1.0], [88.0, 89.0, 90.0, -104.0], [700.0, 710.0, 720.0, -745.0]], dtype=F64),
    "1e4": torch.tensor([[1e4, 1e4 - 1]], dtype=F64),
    "3e38": torch.tensor([[3e38, 3e38, 0.0]], dtype=F64),
    "neginf": torch.tensor([[-INF, 0.0, 1.0, -INF], [-INF, -INF, -INF, -INF]], dtype=F64),
    "posinf": torch.tensor([[INF, 1.0, 0.0, -1.0]], dtype=F64),
    "nan": torch.tensor([[NAN, 0.0, 1.0, 2.0]], dtype=F64),
}


def reduce_cases():
    edge_rows = torch.cat(list(EDGE_ROWS.values()))
    for op in ("sum", "prod", "max", "min", "mean", "var", "std", "logsumexp", "norm"):
        for extra in REDUCE_ARGS.get(op, [{}]):
            tag = "".join("%s=%s" % (k, num(v)) for k, v in extra.items())
            pre = "reduce/%s%s" % (op, "[" + tag + "]" if tag else "")
            lo, hi = (0.5, 1.5) if op == "prod" else (-2.0, 2.0)
            r = lambda s, d=F64: rand(s, lo, hi, d)  # noqa: E731
            for vname, dims, keep in REDUCE_VARIANTS:
                a = dict(extra, dims=dims, keepDim=keep)
                FX.case("%s/F64/%s" % (pre, vname), op, [r((3, 4, 5))], a, grad=True)
            a = dict(extra, dims=[-1], keepDim=False)
            FX.case("%s/F64/T" % pre, op, [laid(r, (3, 4, 5), "T")], dict(extra, dims=[1], keepDim=False), grad=True)
            FX.case("%s/F64/expand" % pre, op, [laid(r, (3, 4, 5), "expand")], dict(extra, dims=[1], keepDim=True), grad=True)
            FX.case("%s/F64/0d" % pre, op, [r(())], dict(extra, dims=[], keepDim=False), grad=True)
            for kind, rows in EDGE_ROWS.items():
                departs = op == "logsumexp" and kind == "overflow"
                FX.case("%s/F64/edge-%s" % (pre, kind), op, [rows], a, grad=True,
                        expected=logsumexp_softmax_grad if departs else None, note=NOTE_LSE_OVERFLOW if departs else None)
            FX.case("%s/F32/edgerows" % pre, op, [edge_rows.to(F32)], a)
            FX.case("%s/F32/rows37" % pre, op, [r((7, 37), F32)], a)
            FX.case("%s/F32/cols" % pre, op, [laid(lambda s: r(s, F32), (7, 37), "T")], dict(extra, dims=[0], keepDim=False))
            for dt in (BF16, F16):
                FX.case("%s/%s/rows33" % (pre, NAMES[dt]), op, [r((5, 33), dt)], a)
            for dt in (I32, I64):
                FX.case("%s/%s" % (pre, NAMES[dt]), op, [randint((4, 6), -9, 9, dt)], dict(extra, dims=[1], keepDim=False))
            FX.case("%s/BOOL" % pre, op, [randint((4, 6), 0, 2, BOOL)], dict(extra, dims=[1], keepDim=False))
            FX.case("%s/F32/empty-d0" % pre, op, [torch.zeros(0, 4, dtype=F32)], dict(extra, dims=[0], keepDim=False),
                    error=op in ("max", "min"))
            FX.case("%s/F32/empty-d1" % pre, op, [torch.zeros(0, 4, dtype=F32)], dict(extra, dims=[1], keepDim=False))
    # one row longer than Reductions.ROW_GRAIN (65536), summed in chunks
    long_row = rand((70001,), dtype=F32)
    FX.case("reduce/sum/F32/long-row", "sum", [long_row], {"dims": [], "keepDim": False})
    FX.case("reduce/mean/F32/long-row", "mean", [long_row], {"dims": [0], "keepDim": True})
    for op in ("argmax", "argmin"):
        for dim, keep in ((1, False), (0, True), (-1, True)):
            FX.case("reduce/%s/F64/d%d%s" % (op, dim, "-keep" if keep else ""), op, [rand((3, 4, 5))], {"dim": dim, "keepDim": keep})
        FX.case("reduce/%s/F64/ties-nan" % op, op, [edge_rows], {"dim": 1, "keepDim": False},
                note="ties: torch returns the first extreme index (documented), NaN counts as the extreme")
        FX.case("reduce/%s/F32/T" % op, op, [laid(lambda s: rand(s, dtype=F32), (6, 37), "T")], {"dim": 0, "keepDim": False})
        for dt in (BF16, F16, I32, I64, BOOL):
            mk = (lambda s, d=dt: rand(s, dtype=d)) if dt.is_floating_point else (lambda s, d=dt: randint(s, 0, 2 if d == BOOL else 5, d))
            FX.case("reduce/%s/%s" % (op, NAMES[dt]), op, [mk((4, 9))], {"dim": 1, "keepDim": False})
        FX.case("reduce/%s/F64/0d" % op, op, [rand(())], {"dim": 0, "keepDim": False})
        FX.case("reduce/%s/F32/empty" % op, op, [torch.zeros(3, 0, dtype=F32)], {"dim": 1, "keepDim": False}, error=True)
    for dim in (0, 1, -1):
        FX.case("reduce/cumsum/F64/d%d" % dim, "cumsum", [rand((3, 4, 5))], {"dim": dim}, grad=True)
    FX.case("reduce/cumsum/F64/T", "cumsum", [laid(lambda s: rand(s), (4, 6), "T")], {"dim": 0}, grad=True)
    FX.case("reduce/cumsum/F64/long", "cumsum", [rand((300,), 0.0, 1000.0)], {"dim": 0}, grad=True, grad_tol="gradStrict")
    FX.case("reduce/cumsum/F64/backward-cancel", "cumsum", [rand((4,))], {"dim": 0}, grad=True, grad_tol="gradStrict",
            upstream=[torch.tensor([1e10, 1.0, 1e-6, 3e-6], dtype=F64)],
            note="dx_i = sum of g_j for j >= i: torch sums the tail (a reverse cumsum), accurate to each tail sum; "
                 "sum(g) - cumsum(g) + g rounds at the scale of 1e10 (ulp 1.9e-6) before it cancels")
    for kind, rows in EDGE_ROWS.items():
        FX.case("reduce/cumsum/F64/edge-%s" % kind, "cumsum", [rows], {"dim": 1}, grad=True)
    FX.case("reduce/cumsum/F64/0d", "cumsum", [rand(())], {"dim": 0}, grad=True)
    for dt in (F32, BF16, F16, I32, I64, BOOL):
        mk = (lambda s, d=dt: rand(s, dtype=d)) if dt.is_floating_point else (lambda s, d=dt: randint(s, 0 if d == BOOL else -9, 2 if d == BOOL else 9, d))
        FX.case("reduce/cumsum/%s" % NAMES[dt], "cumsum", [laid(mk, (5, 9), "step")], {"dim": 1})
    FX.case("reduce/cumsum/F32/empty", "cumsum", [torch.zeros(0, 4, dtype=F32)], {"dim": 0})


def softmax_cases():
    for op in ("softmax", "logSoftmax"):
        for dim in (0, 1, -1):
            FX.case("softmax/%s/F64/d%d" % (op, dim), op, [rand((3, 4, 5), -3, 3)], {"dim": dim}, grad=True)
        FX.case("softmax/%s/F64/T" % op, op, [laid(lambda s: rand(s, -3, 3), (4, 6), "T")], {"dim": -1}, grad=True)
        FX.case("softmax/%s/F64/0d" % op, op, [rand(())], {"dim": 0}, grad=True)
        # halves: torch's BF16 log_softmax rounds x - lse in BF16 (log_softmax([700, 710, 720, -745])[2] = 0 where
        # the answer is -4.5e-5), so the expected values are torch's F64 ones, rounded
        half = {F32: {}, BF16: {"expected": in_f64(op), "note": NOTE_F64}, F16: {"expected": in_f64(op), "note": NOTE_F64}}
        for kind, rows in LOGIT_ROWS.items():
            FX.case("softmax/%s/F64/logits-%s" % (op, kind), op, [rows], {"dim": -1}, grad=True)
            for dt in (F32, BF16, F16):
                how = half[dt]
                if dt == F32 and op == "logSoftmax" and kind == "large":
                    # torch's F32 kernel sums exp in F32: log(1 + 4.54e-5) comes out 3.7e-4 relative off
                    how = {"expected": in_f64(op), "note": NOTE_F64 + " (torch's F32 log_softmax sums exp in F32)"}
                FX.case("softmax/%s/%s/logits-%s" % (op, NAMES[dt], kind), op, [rows.to(dt)], {"dim": -1}, **how)
        for dt in (F32, BF16, F16):
            FX.case("softmax/%s/%s/rows37" % (op, NAMES[dt]), op, [rand((6, 37), -5, 5, dt)], {"dim": -1}, **half[dt])
            FX.case("softmax/%s/%s/cols" % (op, NAMES[dt]), op, [laid(lambda s, d=dt: rand(s, -5, 5, d), (6, 37), "step")],
                    {"dim": 0}, **half[dt])
        FX.case("softmax/%s/F32/long-row" % op, op, [rand((1, 1000), -20, 20, F32)], {"dim": -1})
        FX.case("softmax/%s/F32/empty" % op, op, [torch.zeros(0, 4, dtype=F32)], {"dim": -1})
        FX.case("softmax/%s/I64" % op, op, [randint((3, 4), 0, 5, I64)], {"dim": -1}, error=True)
    # fused ops in tensor: maskedSoftmax(allowed, scale), softmaxBackward(y, g, scale), SwiGlu
    causal = torch.ones(5, 5, dtype=BOOL).tril()
    for dt in (F64, F32, BF16):
        FX.case("fused/maskedSoftmax/%s/causal" % NAMES[dt], "maskedSoftmax", [rand((2, 5, 5), -4, 4, dt), causal],
                {"scale": 0.35355339059327373})
        FX.case("fused/maskedSoftmax/%s/broadcast-rows" % NAMES[dt], "maskedSoftmax", [laid(lambda s, d=dt: rand(s, -4, 4, d), (3, 4, 9), "T"),
                randint((4, 9), 0, 2, BOOL)], {"scale": 1.0},
                note="a row with nothing allowed is all zeros in Tessera (documented); torch's softmax would give NaN")
        y = torch.softmax(rand((4, 13), -3, 3, F64), -1).to(dt)
        FX.case("fused/softmaxBackward/%s" % NAMES[dt], "softmaxBackward", [y, rand((4, 13), -1, 1, dt)], {"scale": 0.5})
        FX.case("fused/swiGlu/%s" % NAMES[dt], "swiGlu", [rand((3, 17), -6, 6, dt), rand((3, 17), -2, 2, dt)],
                note="computed in F32 (F64 for F64) and rounded once, as SwiGlu.forward documents")
        FX.case("fused/swiGluBackward/%s" % NAMES[dt], "swiGluBackward", [rand((3, 17), -6, 6, dt), rand((3, 17), -2, 2, dt),
                rand((3, 17), -1, 1, dt)])
    FX.case("fused/swiGlu/F32/edge", "swiGlu", [edge(F32), torch.ones(len(EDGE), dtype=F32)])


MATMUL_SHAPES = [((5,), (5,)), ((5,), (5, 3)), ((3, 5), (5,)), ((3, 5), (5, 4)), ((2, 3, 5), (5, 4)),
                 ((3, 5), (2, 5, 4)), ((2, 3, 5), (2, 5, 4)), ((2, 1, 3, 5), (4, 5, 2)), ((5,), (2, 5, 4)),
                 ((2, 3, 5), (5,)), ((1, 5), (5, 1)), ((0, 5), (5, 3)), ((3, 0), (0, 4)), ((2, 0, 5), (5, 3))]


def matmul_cases():
    def tag(s):
        return "x".join(map(str, s)) or "0d"
    for sa, sb in MATMUL_SHAPES:
        name = "%s@%s" % (tag(sa), tag(sb))
        FX.case("matmul/matmul/F64/%s" % name, "matmul", [rand(sa), rand(sb)], grad=True)
        FX.case("matmul/matmul/F32/%s" % name, "matmul", [rand(sa, dtype=F32), rand(sb, dtype=F32)])
    for sa, sb in (((3, 5), (5, 4)), ((2, 3, 5), (2, 5, 4))):
        name = "%s@%s" % (tag(sa), tag(sb))
        FX.case("matmul/matmul/F64/%s/T-T" % name, "matmul", [laid(rand, sa, "T"), laid(rand, sb, "T")], grad=True)
        FX.case("matmul/matmul/F64/%s/step-expand" % name, "matmul", [laid(rand, sa, "step"), laid(rand, sb, "expand")], grad=True)
    FX.case("matmul/matmul/F64/batch-expand", "matmul", [laid(rand, (3, 4, 5), "expand"), rand((3, 5, 2))], grad=True)
    for dt in (F32, BF16, F16):
        FX.case("matmul/matmul/%s/17x33@33x19" % NAMES[dt], "matmul", [rand((17, 33), dtype=dt), rand((33, 19), dtype=dt)])
        FX.case("matmul/matmul/%s/T@T" % NAMES[dt], "matmul", [laid(lambda s, d=dt: rand(s, dtype=d), (2, 9, 13), "T"),
                                                              laid(lambda s, d=dt: rand(s, dtype=d), (13, 7), "T")])
    FX.case("matmul/matmul/F32/67x131@131x70", "matmul", [rand((67, 131), dtype=F32), rand((131, 70), dtype=F32)])
    FX.case("matmul/matmul/F32/edge", "matmul", [torch.tensor([[1e38, 1e38], [INF, 0.0], [NAN, 1.0]], dtype=F32),
                                                 torch.tensor([[10.0, 1.0], [-10.0, 0.0]], dtype=F32)])
    for dt in (I32, I64):
        FX.case("matmul/matmul/%s/4x6@6x3" % NAMES[dt], "matmul", [randint((4, 6), -20, 20, dt), randint((6, 3), -20, 20, dt)])
    FX.case("matmul/matmul/F32+F64", "matmul", [rand((3, 4), dtype=F32), rand((4, 2))])
    FX.case("matmul/matmul/error-inner", "matmul", [rand((3, 4)), rand((5, 2))], error=True)
    FX.case("matmul/matmul/error-0d", "matmul", [rand(()), rand((3,))], error=True)


# the view ops autograd's Variable has (squeeze() of every dim, flatten() of all, copy and expandAs are Tensor-only)
VARIABLE_VIEWS = {"view", "reshape", "permute", "transpose", "mT", "squeeze", "unsqueeze", "expand", "narrow", "slice",
                  "select", "flatten", "unflatten", "split", "splitSizes", "chunk", "diagonal", "contiguous"}


def view_cases():
    x = lambda s, d=F64: rand(s, dtype=d) if d.is_floating_point else randint(s, 0, 2, d) if d == BOOL else randint(s, -99, 99, d)  # noqa: E731
    specs = [
        ("view", (2, 3, 4), "contig", {"shape": [4, -1]}), ("view", (2, 3, 4), "expand", {"shape": [2, 3, 2, 2]}),
        ("reshape", (2, 3, 4), "T", {"shape": [-1]}), ("reshape", (2, 3, 4), "step", {"shape": [6, 4]}),
        ("permute", (2, 3, 4), "step", {"dims": [2, 0, 1]}), ("transpose", (2, 3, 4), "contig", {"dim0": 0, "dim1": -1}),
        ("mT", (2, 3, 4), "T", {}), ("squeezeAll", (1, 3, 1, 4), "contig", {}), ("squeeze", (3, 1, 4), "step", {"dim": 1}),
        ("squeeze", (3, 2, 4), "contig", {"dim": 1}), ("unsqueeze", (3, 4), "T", {"dim": -1}),
        ("unsqueeze", (3, 4), "contig", {"dim": 0}), ("expand", (3, 1), "step", {"sizes": [2, 3, 5]}),
        ("expand", (3, 1), "contig", {"sizes": [-1, 4]}), ("narrow", (4, 6), "T", {"dim": 1, "start": 1, "length": 3}),
        ("narrow", (4, 6), "contig", {"dim": 0, "start": -2, "length": 2}),
        ("slice", (4, 9), "contig", {"dim": 1, "start": 1, "end": 8, "step": 3}),
        ("slice", (4, 9), "T", {"dim": 0, "start": -3, "end": 100, "step": 2}),
        ("select", (3, 4, 5), "step", {"dim": 1, "index": -1}), ("select", (3, 4), "T", {"dim": 0, "index": 2}),
        ("flattenAll", (2, 3, 4), "T", {}), ("flatten", (2, 3, 4, 2), "contig", {"start": 1, "end": 2}),
        ("flatten", (2, 3, 4), "step", {"start": 0, "end": -1}), ("unflatten", (2, 12), "contig", {"dim": 1, "sizes": [3, -1]}),
        ("split", (7, 4), "T", {"size": 3, "dim": 0}), ("splitSizes", (7, 4), "contig", {"sizes": [2, 5], "dim": 0}),
        ("chunk", (4, 7), "step", {"chunks": 3, "dim": 1}), ("diagonal", (4, 5), "contig", {"offset": 1, "dim1": 0, "dim2": 1}),
        ("diagonal", (3, 4, 5), "T", {"offset": -1, "dim1": -1, "dim2": 0}), ("contiguous", (3, 5), "T", {}),
        ("contiguous", (3, 5), "contig", {}), ("copy", (3, 5), "step", {}),
    ]
    for op, shape, how, a in specs:
        base = "view/%s/%s/%s" % (op, "%s", how + "".join("," + str(v) for v in a.values()))
        FX.case(base % "F64", op, [laid(x, shape, how)], a, grad=op in VARIABLE_VIEWS)
        for dt in (F32, BF16, I32, BOOL):
            FX.case(base % NAMES[dt], op, [laid(lambda s, d=dt: x(s, d), shape, how)], a)
    FX.case("view/view/error-incompatible", "view", [laid(x, (3, 4), "T")], {"shape": [12]}, error=True)
    FX.case("view/expandAs/F64", "expandAs", [x((3, 1)), x((2, 3, 4))])
    FX.case("view/squeeze/F64/0d", "squeeze", [x(())], {"dim": 0}, grad=True)
    FX.case("view/flattenAll/F64/0d", "flattenAll", [x(())])
    FX.case("view/asStrided/F64/overlap", "asStrided", [x((12,))], {"shape": [3, 4], "strides": [2, 1], "offset": 1})
    FX.case("view/asStrided/I64/T", "asStrided", [x((12,), I64)], {"shape": [4, 3], "strides": [1, 4], "offset": 0})
    for dim in (0, 1, -1):
        FX.case("view/cat/F64/d%d" % dim, "cat", [laid(x, (2, 3), "T"), x((2, 3)), laid(x, (2, 3), "step")], {"dim": dim}, grad=True)
        FX.case("view/stack/F64/d%d" % dim, "stack", [laid(x, (2, 3), "T"), x((2, 3))], {"dim": dim}, grad=True)
    for dt in (F32, BF16, F16, I32, I64, BOOL):
        FX.case("view/cat/%s" % NAMES[dt], "cat", [x((2, 3), dt), laid(lambda s, d=dt: x(s, d), (4, 3), "T")], {"dim": 0})
        FX.case("view/stack/%s" % NAMES[dt], "stack", [x((3,), dt), x((3,), dt)], {"dim": 1})
    FX.case("view/cat/F32/empty-part", "cat", [x((2, 3), F32), torch.zeros(0, 3, dtype=F32)], {"dim": 0})
    FX.case("view/cat/F32+F64", "cat", [x((2, 3), F32), x((1, 3))], {"dim": 0})
    FX.case("view/cat/error-shapes", "cat", [x((2, 3)), x((2, 4))], {"dim": 0}, error=True)


CAST_VALUES = {  # per source dtype: values every target can hold without undefined behaviour
    "float": [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.7, -0.7, 3.5, 100.0, 1e-45, 1e-40, 6e-8, 1 + 2 ** -8, 1 + 3 * 2 ** -8,
              1 + 2 ** -11, 65519.0, 65520.0, 1.1754943508222875e-38, 2 ** 24 + 1, 1e-300],
    "float-special": [INF, -INF, NAN, 1e300, -1e39, 3.4028235677973366e38, 70000.0],
    "int": [0, 1, -1, 127, 255, 256, -129, 2 ** 24 + 1, 2 ** 31 - 1, -2 ** 31, 2 ** 53 + 1, 2 ** 60 + 2 ** 36 + 1,
            -(2 ** 62) - 1, 2 ** 40 + 2 ** 16 + 1],
}


def cast_cases():
    for src in FLOATS + [I32, I64, BOOL]:
        for dst in FLOATS + [I32, I64, BOOL]:
            if src == dst:
                continue
            name = "cast/to/%s->%s" % (NAMES[src], NAMES[dst])
            a = {"dtype": NAMES[dst]}
            if src.is_floating_point:
                vals = CAST_VALUES["float"] + (CAST_VALUES["float-special"] if dst.is_floating_point or dst == BOOL else [])
                t = torch.tensor(vals, dtype=F64).to(src)
                if dst in (I32, I64):  # non-finite or out-of-range float -> int is undefined in C++ (and torch)
                    t = t[t.double().abs() < 2 ** 31]
            elif src == BOOL:
                t = torch.tensor([True, False, True], dtype=BOOL)
            else:
                vals = [v for v in CAST_VALUES["int"] if src == I64 or -2 ** 31 <= v < 2 ** 31]
                t = torch.tensor(vals, dtype=I64).to(src)
            FX.case(name, "to", [t], a, grad=src == F64 and dst.is_floating_point)
            if src == F32:
                FX.case(name + "/T", "to", [laid(lambda s: rand(s, -300, 300, F32), (5, 7), "T")], a)


def index_cases():
    def vals(s, d):
        return rand(s, dtype=d) if d.is_floating_point else randint(s, 0, 2, d) if d == BOOL else randint(s, -99, 99, d)
    for dt in (F64, F32, BF16, I32, I64, BOOL):
        n = NAMES[dt]
        g = dt == F64
        mk = lambda s, d=dt: vals(s, d)  # noqa: E731
        FX.case("index/indexSelect/%s/d0" % n, "indexSelect", [laid(mk, (5, 4), "T"), torch.tensor([4, 0, 4, 2], dtype=I64)], {"dim": 0}, grad=g)
        FX.case("index/indexSelect/%s/d-1-i32" % n, "indexSelect", [laid(mk, (3, 6), "step"), torch.tensor([5, 1], dtype=I32)], {"dim": -1}, grad=g)
        gi = randint((3, 6), 0, 5, I64)
        FX.case("index/gather/%s/d1" % n, "gather", [laid(mk, (3, 5), "T"), gi], {"dim": 1}, grad=g)
        FX.case("index/gather/%s/d0-small" % n, "gather", [mk((4, 5)), randint((2, 3), 0, 4, I32)], {"dim": 0}, grad=g)
        # scatter: duplicate positions give an unspecified winner in torch, so each row's indices are a permutation
        perm = torch.stack([torch.randperm(5, generator=G)[:3] for _ in range(4)])
        FX.case("index/scatter/%s/d1" % n, "scatter", [mk((4, 5)), perm, laid(mk, (4, 3), "T")], {"dim": 1}, grad=g,
                note="indices distinct per row: torch leaves the winner of duplicate positions unspecified")
        FX.case("index/scatterValue/%s" % n, "scatterValue", [mk((4, 5)), perm], {"dim": 1, "value": 1.0})
        if dt != BOOL:
            FX.case("index/scatterAdd/%s/dups" % n, "scatterAdd", [mk((4, 5)), randint((6, 5), 0, 4, I64), mk((6, 5))], {"dim": 0}, grad=g)
            FX.case("index/scatterAdd/%s/small-src" % n, "scatterAdd", [mk((3, 4)), randint((3, 2), 0, 4, I32),
                                                                        laid(mk, (3, 5), "T")], {"dim": 1}, grad=g)
        if dt.is_floating_point:
            FX.case("index/embedding/%s" % n, "embedding", [laid(mk, (7, 4), "T"), randint((2, 5), 0, 7, I64)], grad=g)
        for d in (0, 2, -1):
            FX.case("index/tril/%s/%d" % (n, d), "tril", [laid(mk, (2, 4, 5), "T")], {"diagonal": d}, grad=g)
            FX.case("index/triu/%s/%d" % (n, d), "triu", [laid(mk, (2, 4, 5), "step")], {"diagonal": d}, grad=g)
    FX.case("index/tril/F64/far", "tril", [rand((3, 4))], {"diagonal": -7}, grad=True)
    FX.case("index/embedding/F64/i32-ids", "embedding", [rand((6, 3)), torch.tensor([[5, 0], [5, 5]], dtype=I32)], grad=True)
    FX.case("index/gather/error-range", "gather", [rand((3, 4)), torch.tensor([[0, 4]], dtype=I64)], {"dim": 1}, error=True)
    FX.case("index/indexSelect/error-negative", "indexSelect", [rand((3, 4)), torch.tensor([-1], dtype=I64)], {"dim": 0}, error=True)
    for nc in (-1, 6):
        FX.case("index/oneHot/%d" % nc, "oneHot", [torch.tensor([[0, 3], [2, 2]], dtype=I64)], {"numClasses": nc})
    FX.case("index/oneHot/I32", "oneHot", [torch.tensor([1, 0, 4], dtype=I32)], {"numClasses": 5})
    FX.case("index/oneHot/error-range", "oneHot", [torch.tensor([1, 5], dtype=I64)], {"numClasses": 5}, error=True)
    for rows, cols, d in ((4, 6, 0), (5, 3, -1), (3, 3, 2)):
        FX.case("index/trilMask/%dx%d/%d" % (rows, cols, d), "trilMask", [], {"rows": rows, "cols": cols, "diagonal": d})


def sort_cases():
    ties = torch.tensor([[3.0, 1.0, 3.0, -0.0, 0.0, 1.0, NAN, -INF, 3.0, NAN, INF],
                         [2.0, 2.0, 2.0, 2.0, 1.0, 1.0, 0.0, 0.0, 5.0, 5.0, 5.0]], dtype=F64)
    stable_topk = lambda x, a: tuple(t[..., :a["k"]] for t in torch.sort(x[0], dim=a["dim"], descending=a["largest"], stable=True))  # noqa: E731
    for dt in (F64, F32, BF16, F16, I32, I64):
        n = NAMES[dt]
        t = ties.to(dt) if dt.is_floating_point else randint((2, 11), 0, 3, dt)
        for desc in (False, True):
            FX.case("sort/sort/%s/ties/%s" % (n, "desc" if desc else "asc"), "sort", [t], {"dim": 1, "descending": desc},
                    note="expected from torch.sort(stable=True): equal values keep input order; NaN sorts above +inf; -0 == 0")
            FX.case("sort/argsort/%s/ties/%s" % (n, "desc" if desc else "asc"), "argsort", [t], {"dim": -1, "descending": desc})
        for largest in (True, False):
            FX.case("sort/topk/%s/ties/%s" % (n, "largest" if largest else "smallest"), "topk", [t],
                    {"k": 4, "dim": 1, "largest": largest}, expected=stable_topk,
                    note="torch.topk leaves the order of tied values unspecified; expected is torch.sort(stable=True)[:k], "
                         "Tessera's documented rule (lower index first)")
        FX.case("sort/sort/%s/T-d0" % n, "sort", [laid(lambda s, d=dt: vals_for(s, d), (9, 4), "T")], {"dim": 0, "descending": False})
        FX.case("sort/topk/%s/distinct" % n, "topk", [torch.randperm(40, generator=G).to(dt).reshape(4, 10)],
                {"k": 3, "dim": -1, "largest": True})
    FX.case("sort/sort/BOOL", "sort", [randint((2, 9), 0, 2, BOOL)], {"dim": 1, "descending": True})
    FX.case("sort/sort/F64/0d", "sort", [rand(())], {"dim": 0, "descending": False})
    FX.case("sort/topk/F64/k0", "topk", [rand((3, 4))], {"k": 0, "dim": 1, "largest": True})
    FX.case("sort/topk/error-k", "topk", [rand((3, 4))], {"k": 5, "dim": 1, "largest": True}, error=True)
    # record whether torch.topk itself happens to follow the stable order on the tie rows
    got = torch.topk(ties, 4, dim=1, largest=True, sorted=True).indices
    want = torch.sort(ties, dim=1, descending=True, stable=True).indices[:, :4]
    print("torch.topk ties follow the stable order:", bool(torch.equal(got, want)), got.tolist(), want.tolist())


def vals_for(s, d):
    return rand(s, dtype=d) if d.is_floating_point else randint(s, -50, 50, d)


def fft_cases():
    for n in (8, 7, 12, 1):
        FX.case("fft/rfft/F64/n%d-d-1" % n, "rfft", [rand((3, n))], {"dim": -1}, grad=True)
        FX.case("fft/rfft/F64/n%d-d0-T" % n, "rfft", [laid(rand, (n, 3), "T")], {"dim": 0}, grad=True)
        FX.case("fft/rfft/F32/n%d" % n, "rfft", [rand((2, n), dtype=F32)], {"dim": 1})
    for bins, n in ((5, -1), (5, 8), (5, 9), (5, 4), (5, 12), (4, 7), (1, 1)):
        FX.case("fft/irfft/F64/bins%d-n%d" % (bins, n), "irfft", [rand((3, bins, 2))], {"n": n, "dim": -1}, grad=True)
        FX.case("fft/irfft/F32/bins%d-n%d" % (bins, n), "irfft", [rand((3, bins, 2), dtype=F32)], {"n": n, "dim": -1})
    FX.case("fft/irfft/error-one-bin", "irfft", [rand((3, 1, 2))], {"n": -1, "dim": -1}, error=True)
    FX.case("fft/irfft/F64/d0-step", "irfft", [laid(rand, (4, 3, 2), "expand")], {"n": 6, "dim": 0}, grad=True)
    for op in ("fft", "ifft"):
        for n in (8, 6, 13):
            FX.case("fft/%s/F64/n%d" % (op, n), op, [rand((2, n, 2))], {"dim": -1})
            FX.case("fft/%s/F32/n%d-d0" % (op, n), op, [rand((n, 3, 2), dtype=F32)], {"dim": 0})
    # rfft transforms two real lines as one complex FFT; a non-finite value must not leak into the other line
    FX.case("fft/rfft/F64/inf-in-other-line", "rfft", [torch.tensor([[1.0, 2.0, 3.0, 4.0], [INF, 0.0, 0.0, 0.0]], dtype=F64)],
            {"dim": -1}, note="line 0 is finite and must come out as torch's; line 1 holds an inf")
    FX.case("fft/rfft/error-empty", "rfft", [torch.zeros(3, 0, dtype=F64)], {"dim": 1}, error=True)


def factory_cases():
    for dt in (F64, F32, BF16, I32, I64):
        n = NAMES[dt]
        FX.case("factory/arange/%s/0,10,1" % n, "arange", [], {"start": 0.0, "end": 10.0, "step": 1.0, "dtype": n})
        FX.case("factory/arange/%s/5,-3,-2" % n, "arange", [], {"start": 5.0, "end": -3.0, "step": -2.0, "dtype": n})
        if dt.is_floating_point:
            FX.case("factory/arange/%s/0,1,0.1" % n, "arange", [], {"start": 0.0, "end": 1.0, "step": 0.1, "dtype": n})
            FX.case("factory/arange/%s/-1,2.5,0.3" % n, "arange", [], {"start": -1.0, "end": 2.5, "step": 0.3, "dtype": n})
            for steps in (0, 1, 2, 7, 50):
                FX.case("factory/linspace/%s/%d" % (n, steps), "linspace", [], {"start": -1.5, "end": 3.25, "steps": steps, "dtype": n})
        FX.case("factory/eye/%s" % n, "eye", [], {"n": 4, "dtype": n})
        FX.case("factory/full/%s" % n, "full", [], {"shape": [2, 3], "value": 7.0, "dtype": n})
    FX.case("factory/linspace/I64/7", "linspace", [], {"start": -3.0, "end": 10.0, "steps": 7, "dtype": "I64"})
    FX.case("factory/full/F32/0d-nan", "full", [], {"shape": [], "value": NAN, "dtype": "F32"})
    FX.case("factory/full/BF16/0.1", "full", [], {"shape": [3], "value": 0.1, "dtype": "BF16"})


def large_cases():
    """A few inputs above the sizes where kernels split work across threads (StridedLoop.GRAIN = 2^15 elements,
    GemmBlocked: 2^21 multiply-adds and MC = 144 rows), so the parallel paths are compared as well."""
    FX.case("large/exp/F32/33000", "exp", [rand((33000,), -5, 5, F32)], expected=in_f64("exp"), note=NOTE_F64)
    FX.case("large/mul/F32/200x165*165", "mul", [laid(lambda s: rand(s, dtype=F32), (200, 165), "T"), rand((165,), dtype=F32)])
    FX.case("large/softmax/F32/33x1000", "softmax", [rand((33, 1000), -8, 8, F32)], {"dim": -1})
    FX.case("large/sum/F32/300x110-d0", "sum", [rand((300, 110), dtype=F32)], {"dims": [0], "keepDim": False})
    FX.case("large/matmul/F32/150x100@100x160", "matmul", [rand((150, 100), dtype=F32), rand((100, 160), dtype=F32)])


def inplace_cases():
    for dt in (F64, F32, BF16, I64):
        mk = (lambda s, d=dt: rand(s, dtype=d)) if dt.is_floating_point else (lambda s, d=dt: randint(s, -9, 9, d))
        n = NAMES[dt]
        for op in ("addInPlace", "subInPlace", "mulInPlace") + (("divInPlace",) if dt.is_floating_point else ()):
            FX.case("inplace/%s/%s/broadcast" % (op, n), op, [laid(mk, (3, 4), "T"), mk((4,))])
        FX.case("inplace/addScalarInPlace/%s" % n, "addScalarInPlace", [mk((3, 4))], {"scalar": 2.0})
        FX.case("inplace/mulScalarInPlace/%s" % n, "mulScalarInPlace", [laid(mk, (3, 4), "step")], {"scalar": -3.0})
        FX.case("inplace/fillInPlace/%s" % n, "fillInPlace", [laid(mk, (3, 4), "T")], {"value": 5.0})
        FX.case("inplace/copyFromInPlace/%s+F32" % n, "copyFromInPlace", [mk((3, 4)), rand((4,), -9, 9, F32)])
    for dt in (F64, F32, BF16):
        FX.case("inplace/expInPlace/%s" % NAMES[dt], "expInPlace", [laid(lambda s, d=dt: rand(s, dtype=d), (3, 5), "T")])
        FX.case("inplace/expInto/%s" % NAMES[dt], "expInto", [laid(lambda s, d=dt: rand(s, dtype=d), (3, 5), "step")])
    FX.case("inplace/addInPlace/error-broadcast", "addInPlace", [rand((4,)), rand((3, 4))], error=True)
    FX.case("inplace/varAddInPlace/F64", "varAddInPlace", [rand((3, 4)), rand((4,))], grad=True)
    FX.case("inplace/varMulInPlace/F64", "varMulInPlace", [rand((3, 4)), rand((3, 1))], grad=True)
    FX.case("inplace/varMulScalarInPlace/F64", "varMulScalarInPlace", [rand((3, 4))], {"scalar": -2.5}, grad=True)
    FX.case("inplace/varExpInPlace/F64", "varExpInPlace", [laid(rand, (3, 4), "T")], grad=True)


def main():
    torch.set_num_threads(1)
    for family in (unary_cases, binary_cases, scalar_cases, where_clamp_cases, reduce_cases, softmax_cases,
                   matmul_cases, view_cases, cast_cases, index_cases, sort_cases, fft_cases, factory_cases,
                   large_cases, inplace_cases):
        family()
    OUT.mkdir(parents=True, exist_ok=True)
    save_file(FX.tensors, str(OUT / "tensors.safetensors"))
    manifest = {"torch": torch.__version__, "cases": FX.cases, "skipped": FX.skipped}
    with open(OUT / "cases.json", "w") as f:
        json.dump(manifest, f, indent=None, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    size = sum(p.stat().st_size for p in OUT.iterdir())
    print("%d cases (%d with gradients, %d expecting errors), %d skipped (torch rejects), %d tensors, %.2f MB"
          % (len(FX.cases), sum(c["grad"] is not None for c in FX.cases), sum(c["error"] is not None for c in FX.cases),
             len(FX.skipped), len(FX.tensors), size / 1e6))


if __name__ == "__main__":
    main()

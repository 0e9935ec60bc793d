// Elementwise kernels over F32 arrays. Op codes are the ordinals of dev.tessera.tensor.UnaryOp and
// BinaryOp; the "case N: // NAME" comments are checked against the enums by a CPU test.

__device__ __forceinline__ float unary_apply(int op, float x) {
    switch (op) {
        case 0: return -x; // NEG
        case 1: return expf(x); // EXP
        case 2: return logf(x); // LOG
        case 3: return log1pf(x); // LOG1P
        case 4: return expm1f(x); // EXPM1
        case 5: return sqrtf(x); // SQRT
        case 6: return rsqrtf(x); // RSQRT
        case 7: return fabsf(x); // ABS
        case 8: return x > 0.f ? 1.f : (x < 0.f ? -1.f : x); // SIGN
        case 9: return sinf(x); // SIN
        case 10: return cosf(x); // COS
        case 11: return tanhf(x); // TANH
        case 12: return ts_sigmoid(x); // SIGMOID
        case 13: return x > 0.f ? x : (x != x ? x : 0.f); // RELU
        case 14: return 0.5f * x * (1.f + erff(x * 0.70710678118654752f)); // GELU_ERF
        case 15: return 0.5f * x * (1.f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x))); // GELU_TANH
        case 16: return x * ts_sigmoid(x); // SILU
        case 17: return fmaxf(x, 0.f) + log1pf(expf(-fabsf(x))); // SOFTPLUS
        case 18: return erff(x); // ERF
        case 19: return x == 0.f ? 1.f : 0.f; // LOGICAL_NOT
        case 20: return x * x; // SQUARE
        case 21: return 1.f / x; // RECIPROCAL
        default: return TS_NAN;
    }
}

__device__ __forceinline__ float binary_apply(int op, float a, float b) {
    switch (op) {
        case 0: return a + b; // ADD
        case 1: return a - b; // SUB
        case 2: return a * b; // MUL
        case 3: return a / b; // DIV
        case 4: return powf(a, b); // POW
        case 5: return (a != a || b != b) ? TS_NAN : fmaxf(a, b); // MAXIMUM
        case 6: return (a != a || b != b) ? TS_NAN : fminf(a, b); // MINIMUM
        case 7: return a == b ? 1.f : 0.f; // EQ
        case 8: return a != b ? 1.f : 0.f; // NE
        case 9: return a < b ? 1.f : 0.f; // LT
        case 10: return a <= b ? 1.f : 0.f; // LE
        case 11: return a > b ? 1.f : 0.f; // GT
        case 12: return a >= b ? 1.f : 0.f; // GE
        case 13: return (a != 0.f && b != 0.f) ? 1.f : 0.f; // LOGICAL_AND
        case 14: return (a != 0.f || b != 0.f) ? 1.f : 0.f; // LOGICAL_OR
        default: return TS_NAN;
    }
}

extern "C" __global__ void unary_f32(const float* __restrict__ x, float* __restrict__ y, i64 n, int op) {
    TS_GRID_STRIDE(i, n) { y[i] = unary_apply(op, x[i]); }
}

// Same-shape contiguous operands.
extern "C" __global__ void binary_contig_f32(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
        i64 n, int op) {
    TS_GRID_STRIDE(i, n) { out[i] = binary_apply(op, a[i], b[i]); }
}

// Broadcasting: out is contiguous with d.v[1..rank] sizes; a and b are read through their strides
// (0 along broadcast dimensions).
extern "C" __global__ void binary_strided_f32(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ out,
        i64 n, Dims d, int op) {
    int rank = (int) d.v[0];
    TS_GRID_STRIDE(i, n) {
        i64 rem = i, oa = 0, ob = 0;
        for (int k = rank - 1; k >= 0; --k) {
            i64 size = d.v[1 + k];
            i64 idx = rem % size;
            rem /= size;
            oa += idx * d.v[1 + TS_MAX_DIMS + k];
            ob += idx * d.v[1 + 2 * TS_MAX_DIMS + k];
        }
        out[i] = binary_apply(op, a[oa], b[ob]);
    }
}

// Gathers a strided view into a contiguous array (d.v[1..rank] sizes, a-strides used).
extern "C" __global__ void contiguous_f32(const float* __restrict__ x, float* __restrict__ y, i64 n, Dims d) {
    int rank = (int) d.v[0];
    TS_GRID_STRIDE(i, n) {
        i64 rem = i, o = 0;
        for (int k = rank - 1; k >= 0; --k) {
            i64 size = d.v[1 + k];
            o += (rem % size) * d.v[1 + TS_MAX_DIMS + k];
            rem /= size;
        }
        y[i] = x[o];
    }
}

extern "C" __global__ void fill_f32(float* __restrict__ y, i64 n, float v) {
    TS_GRID_STRIDE(i, n) { y[i] = v; }
}

// Round to nearest even, NaN stays NaN (matches HalfFloats.floatToBf16).
extern "C" __global__ void f32_to_bf16(const float* __restrict__ x, unsigned short* __restrict__ y, i64 n) {
    TS_GRID_STRIDE(i, n) {
        unsigned int u = __float_as_uint(x[i]);
        if ((u & 0x7fffffffu) > 0x7f800000u) {
            y[i] = (unsigned short) ((u >> 16) | 0x40u);
        } else {
            u += 0x7fffu + ((u >> 16) & 1u);
            y[i] = (unsigned short) (u >> 16);
        }
    }
}

extern "C" __global__ void bf16_to_f32(const unsigned short* __restrict__ x, float* __restrict__ y, i64 n) {
    TS_GRID_STRIDE(i, n) { y[i] = __uint_as_float(((unsigned int) x[i]) << 16); }
}

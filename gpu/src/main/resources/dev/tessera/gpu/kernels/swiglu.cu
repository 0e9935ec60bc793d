// SwiGLU: y = silu(gate) * up, elementwise over n F32 values, and its backward.

extern "C" __global__ void swiglu_fwd_f32(const float* __restrict__ g, const float* __restrict__ u, float* __restrict__ y, i64 n) {
    TS_GRID_STRIDE(i, n) { y[i] = g[i] * ts_sigmoid(g[i]) * u[i]; }
}

// du = dy * silu(g); dg = dy * u * sig(g) * (1 + g * (1 - sig(g))).
extern "C" __global__ void swiglu_bwd_f32(const float* __restrict__ dy, const float* __restrict__ g, const float* __restrict__ u,
        float* __restrict__ dg, float* __restrict__ du, i64 n) {
    TS_GRID_STRIDE(i, n) {
        float s = ts_sigmoid(g[i]);
        du[i] = dy[i] * g[i] * s;
        dg[i] = dy[i] * u[i] * s * (1.f + g[i] * (1.f - s));
    }
}

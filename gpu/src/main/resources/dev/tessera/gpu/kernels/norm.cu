// RMSNorm and LayerNorm over the last dimension of a contiguous (rows, cols) F32 array, one block
// per row. The forward saves per-row statistics (rstd, and mean for LayerNorm) for the backward.
// Weight/bias pointers may be null (no affine). Weight and bias gradients accumulate with atomicAdd
// into buffers the caller zeroes (null to skip).

extern "C" __global__ void rmsnorm_fwd_f32(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y,
        float* __restrict__ rstd, i64 rows, i64 cols, float eps) {
    __shared__ float sh[32];
    i64 r = blockIdx.x;
    const float* xr = x + r * cols;
    float ss = 0.f;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) ss += xr[c] * xr[c];
    ss = ts_block_sum(ss, sh);
    float inv = rsqrtf(ss / (float) cols + eps);
    if (rstd != 0 && threadIdx.x == 0) rstd[r] = inv;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) y[r * cols + c] = xr[c] * inv * (w != 0 ? w[c] : 1.f);
}

// dx = rstd * (g - xhat * mean(g * xhat)), g = dy * w, xhat = x * rstd; dw += dy * xhat.
extern "C" __global__ void rmsnorm_bwd_f32(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ w,
        const float* __restrict__ rstd, float* __restrict__ dx, float* __restrict__ dw, i64 rows, i64 cols) {
    __shared__ float sh[32];
    i64 r = blockIdx.x;
    const float* xr = x + r * cols;
    const float* gr = dy + r * cols;
    float inv = rstd[r];
    float dot = 0.f;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) dot += gr[c] * (w != 0 ? w[c] : 1.f) * xr[c] * inv;
    dot = ts_block_sum(dot, sh) / (float) cols;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
        float xhat = xr[c] * inv;
        float g = gr[c] * (w != 0 ? w[c] : 1.f);
        dx[r * cols + c] = inv * (g - xhat * dot);
        if (dw != 0) atomicAdd(dw + c, gr[c] * xhat);
    }
}

extern "C" __global__ void layernorm_fwd_f32(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ b,
        float* __restrict__ y, float* __restrict__ mean, float* __restrict__ rstd, i64 rows, i64 cols, float eps) {
    __shared__ float sh[32];
    i64 r = blockIdx.x;
    const float* xr = x + r * cols;
    float s = 0.f;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) s += xr[c];
    float mu = ts_block_sum(s, sh) / (float) cols;
    float v = 0.f;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) { float d = xr[c] - mu; v += d * d; }
    float inv = rsqrtf(ts_block_sum(v, sh) / (float) cols + eps);
    if (threadIdx.x == 0) {
        if (mean != 0) mean[r] = mu;
        if (rstd != 0) rstd[r] = inv;
    }
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
        y[r * cols + c] = (xr[c] - mu) * inv * (w != 0 ? w[c] : 1.f) + (b != 0 ? b[c] : 0.f);
    }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w; dw += dy * xhat; db += dy.
extern "C" __global__ void layernorm_bwd_f32(const float* __restrict__ dy, const float* __restrict__ x, const float* __restrict__ w,
        const float* __restrict__ mean, const float* __restrict__ rstd, float* __restrict__ dx, float* __restrict__ dw,
        float* __restrict__ db, i64 rows, i64 cols) {
    __shared__ float sh[32];
    i64 r = blockIdx.x;
    const float* xr = x + r * cols;
    const float* gr = dy + r * cols;
    float mu = mean[r], inv = rstd[r];
    float sg = 0.f, sgx = 0.f;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
        float g = gr[c] * (w != 0 ? w[c] : 1.f);
        sg += g;
        sgx += g * (xr[c] - mu) * inv;
    }
    sg = ts_block_sum(sg, sh) / (float) cols;
    sgx = ts_block_sum(sgx, sh) / (float) cols;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
        float xhat = (xr[c] - mu) * inv;
        float g = gr[c] * (w != 0 ? w[c] : 1.f);
        dx[r * cols + c] = inv * (g - sg - xhat * sgx);
        if (dw != 0) atomicAdd(dw + c, gr[c] * xhat);
        if (db != 0) atomicAdd(db + c, gr[c]);
    }
}

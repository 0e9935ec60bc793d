// Cross-entropy over (rows, vocab) F32 logits with int64 targets, one block per row. The forward
// writes the per-row loss (0 for ignoreIndex) and log-sum-exp; the backward writes
// dlogits = (softmax - onehot(target)) * scale, zero for ignored rows (scale = upstream / count for
// a mean reduction, computed by the caller).

extern "C" __global__ void cross_entropy_fwd_f32(const float* __restrict__ logits, const i64* __restrict__ targets,
        float* __restrict__ loss, float* __restrict__ lse, i64 rows, i64 vocab, i64 ignoreIndex) {
    __shared__ float sh[32];
    i64 r = blockIdx.x;
    const float* row = logits + r * vocab;
    float m = -TS_INF;
    for (i64 c = threadIdx.x; c < vocab; c += blockDim.x) m = fmaxf(m, row[c]);
    m = ts_block_max(m, sh);
    float s = 0.f;
    for (i64 c = threadIdx.x; c < vocab; c += blockDim.x) s += expf(row[c] - m);
    s = ts_block_sum(s, sh);
    if (threadIdx.x == 0) {
        float l = m + logf(s);
        lse[r] = l;
        i64 t = targets[r];
        loss[r] = (t == ignoreIndex || t < 0 || t >= vocab) ? 0.f : l - row[t];
    }
}

extern "C" __global__ void cross_entropy_bwd_f32(const float* __restrict__ logits, const i64* __restrict__ targets,
        const float* __restrict__ lse, float* __restrict__ dlogits, i64 rows, i64 vocab, i64 ignoreIndex, float scale) {
    i64 r = blockIdx.x;
    i64 t = targets[r];
    bool ignored = t == ignoreIndex || t < 0 || t >= vocab;
    float l = lse[r];
    for (i64 c = threadIdx.x; c < vocab; c += blockDim.x) {
        float p = expf(logits[r * vocab + c] - l);
        dlogits[r * vocab + c] = ignored ? 0.f : (p - (c == t ? 1.f : 0.f)) * scale;
    }
}

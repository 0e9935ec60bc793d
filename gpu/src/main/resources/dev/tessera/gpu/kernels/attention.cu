// Scaled dot-product attention with an online (streaming) softmax: one thread per (batch*head,
// query) row walks the keys once, keeping the running max, normaliser and output accumulator, so no
// (Tq, Tk) score matrix is materialised. q is (BH, Tq, D), k and v (BHkv, Tk, D), o (BH, Tq, D),
// lse (BH, Tq) may be null. Grouped-query attention: head h of H reads kv head h / (H / Hkv).
// causal: query q sees keys j <= q + (Tk - Tq). D is at most 256. This is a correctness-first
// kernel (no shared-memory tiling); a tiled FlashAttention-style kernel can replace it behind the
// same signature.
#define TS_MAX_HEAD_DIM 256

extern "C" __global__ void attention_fwd_f32(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
        float* __restrict__ o, float* __restrict__ lse, i64 bh, i64 heads, i64 kvHeads, i64 tq, i64 tk, i64 d, float scale,
        int causal) {
    float acc[TS_MAX_HEAD_DIM];
    i64 n = bh * tq;
    TS_GRID_STRIDE(i, n) {
        i64 b = i / tq, qi = i % tq;
        i64 h = b % heads, batch = b / heads;
        i64 kb = batch * kvHeads + h / (heads / kvHeads);
        const float* qr = q + i * d;
        const float* kbase = k + kb * tk * d;
        const float* vbase = v + kb * tk * d;
        for (i64 c = 0; c < d; ++c) acc[c] = 0.f;
        float m = -TS_INF, l = 0.f;
        i64 last = causal ? qi + (tk - tq) : tk - 1;
        if (last > tk - 1) last = tk - 1;
        for (i64 j = 0; j <= last; ++j) {
            const float* kr = kbase + j * d;
            float s = 0.f;
            for (i64 c = 0; c < d; ++c) s += qr[c] * kr[c];
            s *= scale;
            float mNew = fmaxf(m, s);
            float corr = expf(m - mNew);
            float p = expf(s - mNew);
            l = l * corr + p;
            const float* vr = vbase + j * d;
            for (i64 c = 0; c < d; ++c) acc[c] = acc[c] * corr + p * vr[c];
            m = mNew;
        }
        float inv = l > 0.f ? 1.f / l : 0.f;
        for (i64 c = 0; c < d; ++c) o[i * d + c] = acc[c] * inv;
        if (lse != 0) lse[i] = l > 0.f ? m + logf(l) : -TS_INF;
    }
}

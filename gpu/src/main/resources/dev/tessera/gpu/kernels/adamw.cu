// One AdamW step (decoupled weight decay, as torch.optim.AdamW) over n F32 parameters, in place.
// bc1 = 1 - beta1^t and bc2 = 1 - beta2^t are computed by the caller.

extern "C" __global__ void adamw_f32(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ m,
        float* __restrict__ v, i64 n, float lr, float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2) {
    TS_GRID_STRIDE(i, n) {
        float gi = g[i];
        float pi = p[i] * (1.f - lr * weightDecay);
        float mi = beta1 * m[i] + (1.f - beta1) * gi;
        float vi = beta2 * v[i] + (1.f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
    }
}

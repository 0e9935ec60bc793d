// Row softmax of a contiguous (rows, cols) F32 array, one block per row. Optional additive mask
// (maskRows x cols, row r uses mask row r % maskRows; null for none) and optional causal masking:
// with tq > 0, row r is query q = r % tq and key c is masked when c > q + (cols - tq). A fully masked
// row gives zeros (not NaN).

__device__ __forceinline__ float softmax_input(const float* row, const float* mask, i64 r, i64 c, i64 cols, i64 maskRows,
        i64 tq) {
    float v = row[c];
    if (mask != 0) v += mask[(r % maskRows) * cols + c];
    if (tq > 0 && c > (r % tq) + (cols - tq)) v = -TS_INF;
    return v;
}

extern "C" __global__ void softmax_rows_f32(const float* __restrict__ x, const float* __restrict__ mask, float* __restrict__ y,
        i64 rows, i64 cols, i64 maskRows, i64 tq) {
    __shared__ float sh[32];
    i64 r = blockIdx.x;
    const float* row = x + r * cols;
    float* out = y + r * cols;
    float m = -TS_INF;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, softmax_input(row, mask, r, c, cols, maskRows, tq));
    m = ts_block_max(m, sh);
    if (m == -TS_INF) {
        for (i64 c = threadIdx.x; c < cols; c += blockDim.x) out[c] = 0.f;
        return;
    }
    float s = 0.f;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) s += expf(softmax_input(row, mask, r, c, cols, maskRows, tq) - m);
    s = ts_block_sum(s, sh);
    float inv = 1.f / s;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) out[c] = expf(softmax_input(row, mask, r, c, cols, maskRows, tq) - m) * inv;
}

// dx = scale * y * (dy - sum(dy * y)) per row: the gradient of y = softmax(scale * x), masked or not
// (a masked entry has y = 0, so its gradient is 0).
extern "C" __global__ void softmax_bwd_rows_f32(const float* __restrict__ y, const float* __restrict__ dy, float* __restrict__ dx,
        i64 rows, i64 cols, float scale) {
    __shared__ float sh[32];
    i64 r = blockIdx.x;
    const float* yr = y + r * cols;
    const float* gr = dy + r * cols;
    float d = 0.f;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) d += yr[c] * gr[c];
    d = ts_block_sum(d, sh);
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) dx[r * cols + c] = scale * (yr[c] * (gr[c] - d));
}

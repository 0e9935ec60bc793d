// Masked softmax over the last dim of a contiguous (rows, cols) F32 array: y = softmax(scale * x)
// over the columns where the BOOL mask is true, 0 elsewhere; a row with nothing allowed is zeros.
// The mask is a byte array read through broadcast strides: Dims holds x's shape and, as operand a,
// the mask's strides in it (0 along broadcast dims). One block per row, blockDim a power of two
// (at most 1024), reductions by a shared-memory tree in a fixed order.
#define TS_MSM_MAX_THREADS 1024

// The mask's offset of element (r, 0): row r unravelled over every dim but the last.
__device__ __forceinline__ i64 msm_row_offset(const Dims& d, i64 r) {
    int rank = (int) d.v[0];
    i64 o = 0;
    for (int k = rank - 2; k >= 0; --k) {
        i64 size = d.v[1 + k];
        o += (r % size) * d.v[1 + TS_MAX_DIMS + k];
        r /= size;
    }
    return o;
}

// Max (op 0) or sum (op 1) over the block by a tree; every thread gets the result.
__device__ __forceinline__ float msm_block(float v, float* sh, int op) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (unsigned int s = blockDim.x >> 1; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] = op == 0 ? fmaxf(sh[threadIdx.x], sh[threadIdx.x + s]) : sh[threadIdx.x] + sh[threadIdx.x + s];
        __syncthreads();
    }
    float r = sh[0];
    __syncthreads();
    return r;
}

extern "C" __global__ void masked_softmax_f32(const float* __restrict__ x, const unsigned char* __restrict__ allowed,
        float* __restrict__ y, i64 rows, i64 cols, Dims d, float scale) {
    __shared__ float sh[TS_MSM_MAX_THREADS];
    i64 r = blockIdx.x;
    const float* row = x + r * cols;
    float* out = y + r * cols;
    const unsigned char* mask = allowed + msm_row_offset(d, r);
    i64 cs = d.v[1 + TS_MAX_DIMS + (int) d.v[0] - 1]; // the mask's stride along the last dim
    float m = -TS_INF;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
        if (mask[c * cs]) m = fmaxf(m, scale * row[c]);
    }
    m = msm_block(m, sh, 0);
    float s = 0.f;
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) {
        if (mask[c * cs]) s += expf(scale * row[c] - m);
    }
    s = msm_block(s, sh, 1);
    float inv = s > 0.f ? 1.f / s : 0.f; // nothing allowed: s is 0 and the row is zeros
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) out[c] = mask[c * cs] ? expf(scale * row[c] - m) * inv : 0.f;
}

// Shared helpers, prepended to every kernel file by KernelSources (NVRTC compiles each file alone,
// with no include path). Block reductions assume blockDim.x is a multiple of 32 (at most 1024) and
// a __shared__ scratch of at least 32 floats.
#define TS_NAN __int_as_float(0x7fc00000)
#define TS_INF __int_as_float(0x7f800000)
#define TS_MAX_DIMS 8

typedef long long i64;

// rank, sizes[8], strides of operand a[8], strides of operand b[8]; passed by value
struct Dims { i64 v[1 + 3 * TS_MAX_DIMS]; };

__device__ __forceinline__ float ts_sigmoid(float x) {
    if (x >= 0.f) { return 1.f / (1.f + expf(-x)); }
    float e = expf(x);
    return e / (1.f + e);
}

__device__ __forceinline__ float ts_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float ts_warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block; every thread gets the result.
__device__ float ts_block_sum(float v, float* sh) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = ts_warp_sum(v);
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    v = (int) threadIdx.x < nw ? sh[threadIdx.x] : 0.f;
    if (warp == 0) v = ts_warp_sum(v);
    if (threadIdx.x == 0) sh[0] = v;
    __syncthreads();
    return sh[0];
}

// Max over the block (NaN-ignoring, as fmaxf); every thread gets the result.
__device__ float ts_block_max(float v, float* sh) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = ts_warp_max(v);
    __syncthreads();
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    v = (int) threadIdx.x < nw ? sh[threadIdx.x] : -TS_INF;
    if (warp == 0) v = ts_warp_max(v);
    if (threadIdx.x == 0) sh[0] = v;
    __syncthreads();
    return sh[0];
}

#define TS_GRID_STRIDE(i, n) \
    for (i64 i = (i64) blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64) blockDim.x * gridDim.x)

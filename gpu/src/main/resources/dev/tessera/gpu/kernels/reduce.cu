// Per-row reductions of a contiguous (rows, cols) F32 array: one block per row, blockDim a power of
// two, dynamic shared memory of blockDim floats. Op codes are dev.tessera.tensor.ReduceOp ordinals.

__device__ __forceinline__ float reduce_identity(int op) {
    switch (op) {
        case 0: return 0.f; // SUM
        case 1: return 1.f; // PROD
        case 2: return -TS_INF; // MAX
        default: return TS_INF; // MIN
    }
}

__device__ __forceinline__ float reduce_combine(int op, float acc, float x) {
    switch (op) {
        case 0: return acc + x; // SUM
        case 1: return acc * x; // PROD
        case 2: return (acc != acc) ? acc : ((x != x) ? x : fmaxf(acc, x)); // MAX (NaN propagates)
        default: return (acc != acc) ? acc : ((x != x) ? x : fminf(acc, x)); // MIN
    }
}

extern "C" __global__ void reduce_rows_f32(const float* __restrict__ x, float* __restrict__ out, i64 rows, i64 cols, int op) {
    extern __shared__ float sh[];
    i64 r = blockIdx.x;
    const float* row = x + r * cols;
    float acc = reduce_identity(op);
    for (i64 c = threadIdx.x; c < cols; c += blockDim.x) acc = reduce_combine(op, acc, row[c]);
    sh[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned int s = blockDim.x >> 1; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] = reduce_combine(op, sh[threadIdx.x], sh[threadIdx.x + s]);
        __syncthreads();
    }
    if (threadIdx.x == 0) out[r] = sh[0];
}

// Embedding: gather rows of a contiguous (V, C) F32 table by I64 ids, and the gradient, rows of g
// scatter-added into a (V, C) table.
//
// embedding_fwd_f32: out[j, c] = w[ids[j], c], one thread per output element. An id outside 0 .. V-1
// gives a row of NaN rather than a read outside the table: the host checks ids that are on the host,
// a device-side check would cost a sync, and NaN makes a bad id show in the loss.
//
// embedding_bwd_f32: dw[v, c] = sum of g[j, c] over the positions j with ids[j] == v, added in
// position order from 0, as the host kernel adds them, so the bits are the CPU's. One block per
// position j: the block owns row ids[j] iff j is that id's first occurrence (it checks the earlier
// ids), and its threads, one per column, add g's rows of that id's occurrences in order, the ids
// staged through shared memory TS_EMB_CHUNK at a time. Rows no id names stay as the caller zeroed
// them; ids outside 0 .. V-1 are skipped. No float atomics (their order, and so the bits, would vary
// run to run) and no sort; the price is O(n^2) id comparisons for n positions, small next to the
// step's matmuls at the presets' n = B*T (a few thousand to tens of thousands of tokens).
#define TS_EMB_CHUNK 256

extern "C" __global__ void embedding_fwd_f32(const float* __restrict__ w, const i64* __restrict__ ids, float* __restrict__ out,
        i64 n, i64 vocab, i64 cols) {
    TS_GRID_STRIDE(i, n * cols) {
        i64 id = ids[i / cols];
        out[i] = id >= 0 && id < vocab ? w[id * cols + i % cols] : TS_NAN;
    }
}

extern "C" __global__ void embedding_bwd_f32(const float* __restrict__ g, const i64* __restrict__ ids, float* __restrict__ dw,
        i64 n, i64 vocab, i64 cols) {
    __shared__ i64 chunk[TS_EMB_CHUNK];
    __shared__ int earlier;
    i64 j = blockIdx.x;
    i64 id = ids[j];
    if (id < 0 || id >= vocab) return; // the same for the whole block
    if (threadIdx.x == 0) earlier = 0;
    __syncthreads();
    for (i64 i = threadIdx.x; i < j; i += blockDim.x) {
        if (ids[i] == id) earlier = 1;
    }
    __syncthreads();
    if (earlier) return; // an earlier block owns this row
    for (i64 c0 = 0; c0 < cols; c0 += blockDim.x) {
        i64 c = c0 + threadIdx.x;
        float acc = 0.f;
        for (i64 s = j; s < n; s += TS_EMB_CHUNK) {
            __syncthreads();
            for (i64 i = threadIdx.x; i < TS_EMB_CHUNK; i += blockDim.x) chunk[i] = s + i < n ? ids[s + i] : -1;
            __syncthreads();
            i64 m = n - s < TS_EMB_CHUNK ? n - s : TS_EMB_CHUNK;
            if (c < cols) {
                for (i64 i = 0; i < m; ++i) {
                    if (chunk[i] == id) acc += g[(s + i) * cols + c];
                }
            }
        }
        if (c < cols) dw[id * cols + c] = acc;
    }
}

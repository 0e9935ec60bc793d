// Scaled dot-product attention, FlashAttention-2 style: tiled, online softmax, no (Tq, Tk) matrix.
// q, o, dout, dq are (BH, Tq, D); k, v, dk, dv are (BHkv, Tk, D); lse and delta (BH, Tq); all
// contiguous F32. Grouped-query attention: query head h reads kv head h / (H / Hkv). causal: query
// i sees key j iff j <= i + off (off = Tk - Tq for a query block at the end of the keys, 0 for
// training). Document mask (docs not null): docs is a (B, docCols >= Tk) I64 array of document ids,
// key j's at column j, query i's at column Tk - Tq + i (Tq <= Tk); query i also needs key j's id to
// be its own. D is at most TS_ATT_MAXD.
//
// Layout of a block (TS_ATT_THREADS threads): `lanes` consecutive threads own one row (a query row
// in the forward and dq kernels, a key row in dkdv); lane l holds columns l, l + lanes, ... of that
// row in registers (TS_ATT_COLS of them, so D <= lanes * TS_ATT_COLS; the host picks lanes from D).
// A dot product is the lanes' partial sums combined by xor-shuffles. The other operand streams
// through shared memory TS_ATT_TILE rows at a time, read by every row of the block.
//
// Forward (one block per (bh, tile of rows)): per key tile, scores s_j = scale q.k_j, tile max,
// m' = max(m, tile max), acc = acc * e^(m - m') + sum_j e^(s_j - m') v_j, l likewise; o = acc / l
// written once, lse = m + log l saved. Causal: key tiles past the block's last visible key are
// skipped, the diagonal tile masked per element; the document mask is tested per element too (its
// ids staged per tile in shared memory beside K and V).
//
// Backward: P is recomputed from q, k and lse (p_ij = e^(s_ij - lse_i)), dp_ij = dout_i . v_j,
// ds_ij = p_ij (dp_ij - delta_i) with delta_i = dout_i . o_i. Two kernels, no atomics:
//   attention_bwd_dq_f32   one block per query tile: delta (written for the next kernel) and
//                          dq_i = scale sum_j ds_ij k_j, keys streamed;
//   attention_bwd_dkdv_f32 one block per key tile: dv_j = sum_i p_ij dout_i and
//                          dk_j = scale sum_i ds_ij q_i, queries of every head of the group streamed.
// The dq pass recomputes S and dP once more than FlashAttention-2's atomicAdd into dq would, and
// buys results that are deterministic and need no zeroed dq buffer or float atomics contention.
#define TS_ATT_THREADS 256
#define TS_ATT_TILE 32
#define TS_ATT_COLS 16
#define TS_ATT_MAXD 128

// Sum over the `lanes` threads that share a row (lanes is 1, 2, 4 or 8, the same in the whole block).
__device__ __forceinline__ float att_lane_sum(float x, int lanes) {
    for (int o = 1; o < lanes; o <<= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

// Loads this thread's columns of row `row` of a (rows, d) matrix (zeros past the end), times `mul`.
__device__ __forceinline__ void att_load_row(float* r, const float* m, i64 row, i64 rows, int d, int lane, int lanes,
        float mul) {
#pragma unroll
    for (int i = 0; i < TS_ATT_COLS; ++i) {
        int c = lane + lanes * i;
        r[i] = (row < rows && c < d) ? m[row * d + c] * mul : 0.f;
    }
}

// The row's dot product of register columns `r` with shared row `s` (stride d), summed over lanes.
__device__ __forceinline__ float att_dot(const float* r, const float* s, int d, int lane, int lanes) {
    float x = 0.f;
#pragma unroll
    for (int i = 0; i < TS_ATT_COLS; ++i) {
        int c = lane + lanes * i;
        if (c < d) x += r[i] * s[c];
    }
    return att_lane_sum(x, lanes);
}

// acc += w * shared row s, over this thread's columns.
__device__ __forceinline__ void att_axpy(float* acc, float w, const float* s, int d, int lane, int lanes) {
#pragma unroll
    for (int i = 0; i < TS_ATT_COLS; ++i) {
        int c = lane + lanes * i;
        if (c < d) acc[i] += w * s[c];
    }
}

__device__ __forceinline__ void att_store_row(float* m, const float* r, i64 row, int d, int lane, int lanes, float mul) {
#pragma unroll
    for (int i = 0; i < TS_ATT_COLS; ++i) {
        int c = lane + lanes * i;
        if (c < d) m[row * d + c] = r[i] * mul;
    }
}

// Rows row0 .. row0 + TS_ATT_TILE - 1 of a (rows, d) matrix into sh (row stride d); rows past the end are zeros.
__device__ __forceinline__ void att_load_tile(float* sh, const float* m, i64 row0, i64 rows, int d) {
    const float* src = m + row0 * d;
    i64 left = rows - row0; // rows of the matrix from row0 on
    for (int i = threadIdx.x; i < TS_ATT_TILE * d; i += blockDim.x) sh[i] = i / d < left ? src[i] : 0.f;
}

// kv row block of (batch * heads + h): batch * kvHeads + h / (heads / kvHeads).
__device__ __forceinline__ i64 att_kv_block(i64 b, i64 heads, i64 kvHeads) {
    return (b / heads) * kvHeads + (b % heads) / (heads / kvHeads);
}

// Which keys a row sees: causal with offset off, and the document ids of the batch row (null for none).
struct AttMask { int causal; i64 off; const i64* docs; };

__device__ __forceinline__ AttMask att_mask(int causal, i64 off, const i64* docs, i64 docCols, i64 batch) {
    AttMask m;
    m.causal = causal;
    m.off = off;
    m.docs = docs != 0 ? docs + batch * docCols : 0;
    return m;
}

// Whether query qi sees key kj (both in range), given their document ids (ignored without docs).
__device__ __forceinline__ bool att_visible(const AttMask& m, i64 qi, i64 kj, i64 qdoc, i64 kdoc) {
    return (!m.causal || kj <= qi + m.off) && (m.docs == 0 || qdoc == kdoc);
}

// Where a query-row block (forward, dq) stands: head block b (of bh), this thread's query row qi
// and its document id, its head's keys and values, the mask, and kEnd: keys at or past it are
// masked for every row of the block.
struct AttQueryBlock { i64 b, qi, qdoc, kEnd; const float* kb; const float* vb; AttMask mask; };

__device__ __forceinline__ AttQueryBlock att_query_block(const float* k, const float* v, i64 heads, i64 kvHeads, i64 tq,
        i64 tk, i64 d, int causal, i64 off, const i64* docs, i64 docCols, int lanes) {
    i64 rowsPerBlock = blockDim.x / lanes, qTiles = (tq + rowsPerBlock - 1) / rowsPerBlock;
    AttQueryBlock a;
    a.b = blockIdx.x / qTiles;
    i64 q0 = (blockIdx.x % qTiles) * rowsPerBlock;
    a.qi = q0 + threadIdx.x / lanes;
    i64 kvb = att_kv_block(a.b, heads, kvHeads);
    a.kb = k + kvb * tk * d;
    a.vb = v + kvb * tk * d;
    i64 lastVisible = (q0 + rowsPerBlock < tq ? q0 + rowsPerBlock : tq) - 1 + off; // of the block's last row
    a.kEnd = causal && lastVisible + 1 < tk ? (lastVisible + 1 > 0 ? lastVisible + 1 : 0) : tk;
    a.mask = att_mask(causal, off, docs, docCols, a.b / heads);
    a.qdoc = a.mask.docs != 0 && a.qi < tq ? a.mask.docs[tk - tq + a.qi] : 0;
    return a;
}

// Stages key/value rows k0 .. k0 + TS_ATT_TILE - 1 (and their document ids) in shared memory once
// every thread is done with the last ones. blockDim.x >= TS_ATT_TILE.
__device__ __forceinline__ void att_stage_kv(float* ks, float* vs, i64* kdocs, const AttQueryBlock& a, i64 k0, i64 tk, int hd) {
    __syncthreads();
    att_load_tile(ks, a.kb, k0, tk, hd);
    att_load_tile(vs, a.vb, k0, tk, hd);
    if (threadIdx.x < TS_ATT_TILE) kdocs[threadIdx.x] = a.mask.docs != 0 && k0 + threadIdx.x < tk ? a.mask.docs[k0 + threadIdx.x] : -1;
    __syncthreads();
}

extern "C" __global__ void attention_fwd_f32(const float* __restrict__ q,
        const float* __restrict__ k, const float* __restrict__ v, float* __restrict__ o, float* __restrict__ lse, i64 bh,
        i64 heads, i64 kvHeads, i64 tq, i64 tk, i64 d, float scale, int causal, i64 off,
        const i64* __restrict__ docs, i64 docCols, int lanes) {
    __shared__ float ks[TS_ATT_TILE * TS_ATT_MAXD];
    __shared__ float vs[TS_ATT_TILE * TS_ATT_MAXD];
    __shared__ i64 kdocs[TS_ATT_TILE];
    AttQueryBlock a = att_query_block(k, v, heads, kvHeads, tq, tk, d, causal, off, docs, docCols, lanes);
    i64 b = a.b, qi = a.qi;
    int lane = threadIdx.x % lanes, hd = (int) d;
    float qr[TS_ATT_COLS], acc[TS_ATT_COLS];
    att_load_row(qr, q + b * tq * d, qi, tq, hd, lane, lanes, scale);
#pragma unroll
    for (int i = 0; i < TS_ATT_COLS; ++i) acc[i] = 0.f;
    float m = -TS_INF, l = 0.f;
    for (i64 k0 = 0; k0 < a.kEnd; k0 += TS_ATT_TILE) {
        att_stage_kv(ks, vs, kdocs, a, k0, tk, hd);
        float s[TS_ATT_TILE];
        float tileMax = -TS_INF;
#pragma unroll
        for (int j = 0; j < TS_ATT_TILE; ++j) {
            float x = att_dot(qr, ks + j * hd, hd, lane, lanes);
            i64 kj = k0 + j;
            s[j] = (kj < tk && att_visible(a.mask, qi, kj, a.qdoc, kdocs[j])) ? x : -TS_INF;
            tileMax = fmaxf(tileMax, s[j]);
        }
        float mNew = fmaxf(m, tileMax);
        if (mNew == -TS_INF) continue; // nothing visible to this row yet (no collective below)
        float corr = expf(m - mNew); // 0 when m is still -inf
        float sum = 0.f;
#pragma unroll
        for (int i = 0; i < TS_ATT_COLS; ++i) acc[i] *= corr;
#pragma unroll
        for (int j = 0; j < TS_ATT_TILE; ++j) {
            float p = s[j] == -TS_INF ? 0.f : expf(s[j] - mNew);
            sum += p;
            att_axpy(acc, p, vs + j * hd, hd, lane, lanes);
        }
        l = l * corr + sum;
        m = mNew;
    }
    if (qi < tq) {
        att_store_row(o + b * tq * d, acc, qi, hd, lane, lanes, l > 0.f ? 1.f / l : 0.f);
        if (lse != 0 && lane == 0) lse[b * tq + qi] = l > 0.f ? m + logf(l) : -TS_INF;
    }
}

extern "C" __global__ void attention_bwd_dq_f32(const float* __restrict__ q,
        const float* __restrict__ k, const float* __restrict__ v, const float* __restrict__ o,
        const float* __restrict__ dout, const float* __restrict__ lse, float* __restrict__ dq, float* __restrict__ delta,
        i64 bh, i64 heads, i64 kvHeads, i64 tq, i64 tk, i64 d, float scale, int causal, i64 off,
        const i64* __restrict__ docs, i64 docCols, int lanes) {
    __shared__ float ks[TS_ATT_TILE * TS_ATT_MAXD];
    __shared__ float vs[TS_ATT_TILE * TS_ATT_MAXD];
    __shared__ i64 kdocs[TS_ATT_TILE];
    AttQueryBlock a = att_query_block(k, v, heads, kvHeads, tq, tk, d, causal, off, docs, docCols, lanes);
    i64 b = a.b, qi = a.qi;
    int lane = threadIdx.x % lanes, hd = (int) d;
    float qr[TS_ATT_COLS], dor[TS_ATT_COLS], orow[TS_ATT_COLS], acc[TS_ATT_COLS];
    att_load_row(qr, q + b * tq * d, qi, tq, hd, lane, lanes, scale);
    att_load_row(dor, dout + b * tq * d, qi, tq, hd, lane, lanes, 1.f);
    att_load_row(orow, o + b * tq * d, qi, tq, hd, lane, lanes, 1.f);
    float dl = 0.f;
#pragma unroll
    for (int i = 0; i < TS_ATT_COLS; ++i) {
        dl += dor[i] * orow[i];
        acc[i] = 0.f;
    }
    dl = att_lane_sum(dl, lanes);
    float rowLse = qi < tq ? lse[b * tq + qi] : 0.f;
    if (qi < tq && lane == 0) delta[b * tq + qi] = dl;
    for (i64 k0 = 0; k0 < a.kEnd; k0 += TS_ATT_TILE) {
        att_stage_kv(ks, vs, kdocs, a, k0, tk, hd);
#pragma unroll 4
        for (int j = 0; j < TS_ATT_TILE; ++j) {
            float s = att_dot(qr, ks + j * hd, hd, lane, lanes);
            float dp = att_dot(dor, vs + j * hd, hd, lane, lanes);
            i64 kj = k0 + j;
            bool visible = qi < tq && kj < tk && att_visible(a.mask, qi, kj, a.qdoc, kdocs[j]);
            float p = visible ? expf(s - rowLse) : 0.f;
            att_axpy(acc, p * (dp - dl), ks + j * hd, hd, lane, lanes);
        }
    }
    if (qi < tq) att_store_row(dq + b * tq * d, acc, qi, hd, lane, lanes, scale);
}

extern "C" __global__ void attention_bwd_dkdv_f32(const float* __restrict__ q,
        const float* __restrict__ k, const float* __restrict__ v, const float* __restrict__ dout,
        const float* __restrict__ lse, const float* __restrict__ delta, float* __restrict__ dk, float* __restrict__ dv,
        i64 bh, i64 heads, i64 kvHeads, i64 tq, i64 tk, i64 d, float scale, int causal, i64 off, const i64* __restrict__ docs,
        i64 docCols, int lanes) {
    __shared__ float qs[TS_ATT_TILE * TS_ATT_MAXD];
    __shared__ i64 qdocs[TS_ATT_TILE];
    __shared__ float dos[TS_ATT_TILE * TS_ATT_MAXD];
    __shared__ float lses[TS_ATT_TILE];
    __shared__ float deltas[TS_ATT_TILE];
    i64 rowsPerBlock = blockDim.x / lanes, kTiles = (tk + rowsPerBlock - 1) / rowsPerBlock;
    i64 kvb = blockIdx.x / kTiles, k0 = (blockIdx.x % kTiles) * rowsPerBlock;
    int lane = threadIdx.x % lanes, hd = (int) d;
    i64 kj = k0 + threadIdx.x / lanes;
    i64 group = heads / kvHeads, batch = kvb / kvHeads, hk = kvb % kvHeads;
    AttMask mask = att_mask(causal, off, docs, docCols, batch);
    i64 kdoc = mask.docs != 0 && kj < tk ? mask.docs[kj] : 0;
    float kr[TS_ATT_COLS], vr[TS_ATT_COLS], dkAcc[TS_ATT_COLS], dvAcc[TS_ATT_COLS];
    att_load_row(kr, k + kvb * tk * d, kj, tk, hd, lane, lanes, 1.f);
    att_load_row(vr, v + kvb * tk * d, kj, tk, hd, lane, lanes, 1.f);
#pragma unroll
    for (int i = 0; i < TS_ATT_COLS; ++i) {
        dkAcc[i] = 0.f;
        dvAcc[i] = 0.f;
    }
    // the first query that sees any key of this block: qi + off >= k0
    i64 qStart = causal && k0 - off > 0 ? k0 - off : 0;
    for (i64 g = 0; g < group; ++g) {
        i64 b = batch * heads + hk * group + g;
        for (i64 q0 = qStart; q0 < tq; q0 += TS_ATT_TILE) {
            __syncthreads();
            att_load_tile(qs, q + b * tq * d, q0, tq, hd);
            att_load_tile(dos, dout + b * tq * d, q0, tq, hd);
            if (threadIdx.x < TS_ATT_TILE) {
                i64 r = q0 + threadIdx.x;
                lses[threadIdx.x] = r < tq ? lse[b * tq + r] : 0.f;
                deltas[threadIdx.x] = r < tq ? delta[b * tq + r] : 0.f;
                qdocs[threadIdx.x] = mask.docs != 0 && r < tq ? mask.docs[tk - tq + r] : -1;
            }
            __syncthreads();
#pragma unroll 4
            for (int i = 0; i < TS_ATT_TILE; ++i) {
                float s = att_dot(kr, qs + i * hd, hd, lane, lanes) * scale;
                float dp = att_dot(vr, dos + i * hd, hd, lane, lanes);
                i64 qi = q0 + i;
                bool visible = kj < tk && qi < tq && att_visible(mask, qi, kj, qdocs[i], kdoc);
                float p = visible ? expf(s - lses[i]) : 0.f;
                att_axpy(dvAcc, p, dos + i * hd, hd, lane, lanes);
                att_axpy(dkAcc, p * (dp - deltas[i]), qs + i * hd, hd, lane, lanes);
            }
        }
    }
    if (kj < tk) {
        att_store_row(dk + kvb * tk * d, dkAcc, kj, hd, lane, lanes, scale);
        att_store_row(dv + kvb * tk * d, dvAcc, kj, hd, lane, lanes, 1.f);
    }
}

// Rotary position embedding on a contiguous (rows, dim) F32 array. Row r is at position
// ((r / posDiv) % seqLen) + posOffset (posDiv = heads for a (B, T, H, D) layout, 1 for (B, H, T, D)).
// cos/sin are (maxPositions, dim/2) tables. halfSplit = 1 rotates (x[i], x[i + dim/2]) (Llama/NeoX);
// 0 rotates (x[2i], x[2i+1]) (the original interleaved form). inverse = 1 rotates backwards, which is
// the backward pass (the rotation is orthogonal).

extern "C" __global__ void rope_f32(const float* __restrict__ x, const float* __restrict__ cosT, const float* __restrict__ sinT,
        float* __restrict__ y, i64 rows, i64 dim, i64 posDiv, i64 seqLen, i64 posOffset, int halfSplit, int inverse) {
    i64 half = dim / 2;
    i64 n = rows * half;
    TS_GRID_STRIDE(i, n) {
        i64 r = i / half, j = i % half;
        i64 pos = (r / posDiv) % seqLen + posOffset;
        float c = cosT[pos * half + j];
        float s = sinT[pos * half + j];
        if (inverse) s = -s;
        i64 i1 = halfSplit ? j : 2 * j;
        i64 i2 = halfSplit ? j + half : 2 * j + 1;
        float x1 = x[r * dim + i1], x2 = x[r * dim + i2];
        y[r * dim + i1] = x1 * c - x2 * s;
        y[r * dim + i2] = x2 * c + x1 * s;
    }
}

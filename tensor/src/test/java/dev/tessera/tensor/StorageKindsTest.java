package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kernel on every kind of storage: heap arrays, off-heap segments ({@link Storage#ofSegment}
 * over an {@link Arena} allocation) and memory-mapped files ({@link SafeTensors#read}). Each op runs
 * once on heap inputs and once with its inputs on each other kind; the results must have the heap
 * run's dtype, shape and bits. In-place ops write into off-heap storage (a mapping is read-only).
 */
class StorageKindsTest {
    @TempDir
    Path dir;
    private int files;

    enum Kind { HEAP, OFF_HEAP, MAPPED }

    /** The values of heap tensor {@code t}, on fresh storage of {@code kind} (contiguous, except HEAP: t itself). */
    Tensor place(Kind kind, Tensor t) {
        if (kind == Kind.HEAP) {
            return t;
        }
        Tensor c = t.copy(); // contiguous from offset 0, on the heap
        long bytes = (long) c.numel() * c.dtype().byteSize();
        if (kind == Kind.OFF_HEAP) {
            MemorySegment seg = Arena.ofAuto().allocate(Math.max(bytes, 1), 8).asSlice(0, bytes);
            littleEndian(c, seg, 0);
            return Tensor.of(Storage.ofSegment(c.dtype(), seg), c.shape());
        }
        // a safetensors file by hand (8-byte header length, JSON header padded to 8, data), then mapped
        String json = "{\"t\":{\"dtype\":\"" + c.dtype().name() + "\",\"shape\":" + Arrays.toString(c.shape()).replace(" ", "")
                + ",\"data_offsets\":[0," + bytes + "]}}";
        byte[] header = (json + " ".repeat((8 - json.length() % 8) % 8)).getBytes(StandardCharsets.US_ASCII);
        MemorySegment file = MemorySegment.ofArray(new byte[(int) (8 + header.length + bytes)]);
        file.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, header.length);
        MemorySegment.copy(header, 0, file, ValueLayout.JAVA_BYTE, 8, header.length);
        littleEndian(c, file, 8 + header.length);
        try {
            Path p = Files.write(dir.resolve("t" + files++ + ".safetensors"), file.toArray(ValueLayout.JAVA_BYTE));
            return SafeTensors.read(p).get("t");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes heap tensor c's elements (contiguous from 0) into {@code dst} at byte {@code at}, little-endian. */
    private static void littleEndian(Tensor c, MemorySegment dst, long at) {
        MemorySegment.copy(c.storage().segment(), SafeTensorsTest.layout(c.dtype(), ByteOrder.nativeOrder()), 0, dst,
                SafeTensorsTest.layout(c.dtype(), ByteOrder.LITTLE_ENDIAN), at, c.numel());
    }

    /** An op under test: its inputs come through {@code in} (which places them), its results are compared. */
    interface Op {
        Object run(UnaryOperator<Tensor> in);
    }

    private record Case(String name, Op op) {}

    private final List<Case> cases = new ArrayList<>();

    private void add(String name, Op op) {
        cases.add(new Case(name, op));
    }

    // ---------------------------------------------------------------- inputs (heap, seeded)

    private static final Generator G = new Generator(42);
    private static final Tensor X = Tensor.randn(G, DType.F32, 3, 37).mul(3);
    private static final Tensor Y = Tensor.randn(G, DType.F32, 3, 37);
    private static final Tensor ROW = Tensor.randn(G, DType.F32, 37);
    private static final Tensor W = Tensor.randn(G, DType.F32, 37, 40);
    private static final Tensor MASK = Tensor.rand(G, DType.F32, 3, 37).gt(0.3);
    private static final Tensor IDS = Tensor.randint(G, 0, 3, DType.I64, 4, 37);
    private static final Tensor INTS = Tensor.randint(G, -50, 50, DType.I64, 3, 37);

    private void unaryCases() {
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16, DType.I32}) {
            Tensor x = dt == DType.I32 ? INTS.to(DType.I32) : X.to(dt);
            for (UnaryOp op : UnaryOp.values()) {
                add(op + " " + dt, in -> in.apply(x).apply(op));
                add(op + " " + dt + " transposed", in -> in.apply(x).mT().apply(op));
            }
        }
        for (UnaryOp op : new UnaryOp[] {UnaryOp.EXP, UnaryOp.TANH, UnaryOp.NEG}) {
            add(op + " into", in -> in.apply(X).applyInto(op, Tensor.zeros(DType.F32, 3, 37)));
            add(op + " in place", in -> inPlace(in, X).applyInPlace(op));
        }
    }

    /** A writable placed copy: a mapping is read-only, so in-place ops on MAPPED write to off-heap storage. */
    private Tensor inPlace(UnaryOperator<Tensor> in, Tensor t) {
        Tensor placed = in.apply(t);
        return placed.storage().array() == null ? place(Kind.OFF_HEAP, t) : placed.copy();
    }

    private void binaryCases() {
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.I64}) {
            Tensor x = dt == DType.I64 ? INTS : X.to(dt);
            Tensor y = dt == DType.I64 ? INTS.add(3) : Y.to(dt);
            Tensor r = dt == DType.I64 ? INTS.select(0, 1) : ROW.to(dt);
            for (BinaryOp op : BinaryOp.values()) {
                if (dt == DType.I64 && op == BinaryOp.POW) {
                    continue; // negative integer exponents are rejected
                }
                add(op + " " + dt, in -> in.apply(x).apply(op, in.apply(y)));
                add(op + " " + dt + " row", in -> in.apply(x).apply(op, in.apply(r)));
                add(op + " " + dt + " scalar", in -> in.apply(x).apply(op, in.apply(Tensor.scalar(1.5, dt))));
                add(op + " " + dt + " transposed", in -> in.apply(x).mT().apply(op, in.apply(y).mT()));
            }
        }
        add("add in place", in -> inPlace(in, X).addInPlace(in.apply(Y)));
        add("mul in place row", in -> inPlace(in, X).mulInPlace(in.apply(ROW)));
        add("where", in -> Tensor.where(in.apply(MASK), in.apply(X), in.apply(Y)));
        add("where I64", in -> Tensor.where(in.apply(MASK), in.apply(INTS), in.apply(INTS.neg())));
        add("masked fill", in -> in.apply(X).maskedFill(in.apply(MASK), -1e9));
        add("clamp", in -> in.apply(X).clamp(-1, 2));
    }

    private void reductionCases() {
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16, DType.I64}) {
            Tensor x = dt == DType.I64 ? INTS : X.to(dt);
            add("sum " + dt, in -> in.apply(x).sum());
            add("sum rows " + dt, in -> in.apply(x).sum(false, 1));
            add("sum cols " + dt, in -> in.apply(x).sum(true, 0));
            add("prod " + dt, in -> in.apply(x).prod(false, 0));
            add("max " + dt, in -> in.apply(x).max(false, 1));
            add("min " + dt, in -> in.apply(x).min(true, 0));
            add("mean " + dt, in -> in.apply(x).mean(1));
            add("var " + dt, in -> in.apply(x).var(1, false, 1));
            add("argmax " + dt, in -> in.apply(x).argmax(1, false));
            add("argmin " + dt, in -> in.apply(x).argmin(0, true));
            add("cumsum " + dt, in -> in.apply(x).cumsum(1));
            if (dt.isFloating()) {
                add("std " + dt, in -> in.apply(x).std(1, true, 0));
                add("logsumexp " + dt, in -> in.apply(x).logsumexp(false, 1));
                add("norm " + dt, in -> new Tensor[] {in.apply(x).norm(2, false, 1), in.apply(x).norm(1, false, 0),
                    in.apply(x).norm(Double.POSITIVE_INFINITY, false, 1), in.apply(x).norm(3, true, 1)});
                add("softmax " + dt, in -> in.apply(x).softmax(-1));
                add("softmax dim 0 " + dt, in -> in.apply(x).softmax(0));
                add("log_softmax " + dt, in -> in.apply(x).logSoftmax(-1));
                add("log_softmax transposed " + dt, in -> in.apply(x).mT().logSoftmax(-1));
                add("masked softmax " + dt, in -> in.apply(x).maskedSoftmax(in.apply(MASK), 0.7));
                add("masked softmax broadcast " + dt, in -> in.apply(x).maskedSoftmax(in.apply(MASK.select(0, 1)), 0.7));
                add("softmax backward " + dt, in -> in.apply(x.softmax(-1)).softmaxBackward(in.apply(Y.to(dt)), 1.3));
            }
        }
    }

    private void matmulCases() {
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16, DType.F16, DType.I64}) {
            Tensor x = dt == DType.I64 ? INTS : X.to(dt);
            Tensor w = dt == DType.I64 ? INTS.mT().contiguous() : W.to(dt);
            add("matmul " + dt, in -> in.apply(x).matmul(in.apply(w)));
            add("matmul transposed " + dt, in -> in.apply(w).mT().matmul(in.apply(x).mT()));
            add("matmul vector " + dt, in -> in.apply(x).select(0, 0).matmul(in.apply(w)));
            add("matmul x·xᵀ " + dt, in -> in.apply(x).matmul(in.apply(x).mT()));
        }
        Tensor batched = Tensor.randn(G, DType.F32, 2, 3, 37);
        add("matmul batched", in -> in.apply(batched).matmul(in.apply(batched).mT()));
        add("matmul folded batch", in -> in.apply(batched).matmul(in.apply(W)));
    }

    private void fusedCases() {
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16}) {
            Tensor a = X.to(dt);
            Tensor b = Y.to(dt);
            Tensor g = Y.mul(0.5).to(dt);
            add("swiglu " + dt, in -> SwiGlu.forward(in.apply(a), in.apply(b)));
            add("swiglu transposed " + dt, in -> SwiGlu.forward(in.apply(a).mT(), in.apply(b).mT()));
            add("swiglu backward " + dt, in -> SwiGlu.backward(in.apply(a), in.apply(b), in.apply(g)));
        }
    }

    private void copyCases() {
        for (DType from : DType.values()) {
            Tensor x = from.isFloating() ? X.to(from) : from == DType.BOOL ? MASK : INTS.to(from);
            for (DType to : DType.values()) {
                add("to " + from + " → " + to, in -> in.apply(x).to(to));
            }
            add("contiguous transposed " + from, in -> in.apply(x).mT().contiguous());
            add("copy sliced " + from, in -> in.apply(x).narrow(1, 3, 20).copy());
            add("cat " + from, in -> Tensor.cat(1, in.apply(x), in.apply(x).narrow(1, 1, 5)));
            add("stack " + from, in -> Tensor.stack(0, in.apply(x), in.apply(x)));
            add("copy into off-heap " + from, in -> place(Kind.OFF_HEAP, Tensor.zeros(from, 37, 3)).copyFromInPlace(in.apply(x).mT()));
            add("format " + from, in -> in.apply(x).toString());
        }
        add("arrays", in -> new Object[] {in.apply(X).toFloatArray(), in.apply(X).toDoubleArray(), in.apply(INTS).toLongArray(),
            in.apply(X).mT().toFloatArray(), in.apply(X).getDouble(1, 2), in.apply(X).select(0, 1).select(0, 3).item()});
    }

    private void indexingCases() {
        Tensor idx = Tensor.of(new long[] {2, 0, 1, 2});
        add("index select", in -> in.apply(X).indexSelect(0, in.apply(idx)));
        add("index select dim 1", in -> in.apply(X).indexSelect(1, in.apply(idx)));
        add("gather", in -> in.apply(X).gather(0, in.apply(IDS.narrow(0, 0, 3))));
        add("scatter", in -> in.apply(X).scatter(0, in.apply(IDS.narrow(0, 0, 2)), in.apply(Y)));
        add("scatter add", in -> in.apply(X).scatterAdd(0, in.apply(IDS.narrow(0, 0, 3)), in.apply(Y)));
        add("embedding", in -> in.apply(W).embedding(in.apply(IDS)));
        add("one hot", in -> in.apply(IDS).oneHot(5));
        add("topk", in -> {
            Indexing.TopK t = in.apply(X).topk(5, 1, true);
            return new Tensor[] {t.values(), t.indices()};
        });
        add("sort", in -> {
            Indexing.Sorted s = in.apply(X).sort(0, true);
            return new Tensor[] {s.values(), s.indices()};
        });
        add("argsort I64", in -> in.apply(INTS).argsort(1, false));
        add("tril", in -> in.apply(X).tril(1));
        add("triu", in -> in.apply(X).triu(-1));
        add("multinomial", in -> in.apply(X.softmax(-1)).multinomial(4, true, new Generator(5)));
        add("rfft", in -> in.apply(X).rfft(1));
        add("irfft", in -> in.apply(X.rfft(1)).irfft(37, 1));
    }

    @Test
    void everyOpGivesTheHeapBitsOnOffHeapAndMappedStorage() {
        unaryCases();
        binaryCases();
        reductionCases();
        matmulCases();
        fusedCases();
        copyCases();
        indexingCases();
        List<String> failures = new ArrayList<>();
        Map<Kind, Map<Tensor, Tensor>> placed = Map.of(Kind.OFF_HEAP, new IdentityHashMap<>(), Kind.MAPPED, new IdentityHashMap<>());
        for (Case c : cases) {
            Object expected = c.op().run(t -> t);
            for (Kind kind : new Kind[] {Kind.OFF_HEAP, Kind.MAPPED}) {
                String what = c.name() + " on " + kind;
                try {
                    // inputs are shared heap tensors: each is placed once per kind (a file per tensor, not per use)
                    String diff = difference(expected, c.op().run(t -> placed.get(kind).computeIfAbsent(t, u -> place(kind, u))));
                    if (diff != null) {
                        failures.add(what + ": " + diff);
                    }
                } catch (RuntimeException e) {
                    failures.add(what + ": " + e);
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + 2 * cases.size() + " runs differ from heap storage:\n  " + String.join("\n  ", failures));
        }
    }

    /** null when equal (tensors: dtype, shape and every element's bits), otherwise what differs. */
    private static String difference(Object expected, Object actual) {
        if (expected instanceof Tensor e && actual instanceof Tensor a) {
            if (e.dtype() != a.dtype() || !Arrays.equals(e.shape(), a.shape())) {
                return "got " + a.dtype() + Shapes.str(a.shape()) + ", expected " + e.dtype() + Shapes.str(e.shape());
            }
            long[] eb = bits(e);
            long[] ab = bits(a);
            for (int i = 0; i < eb.length; i++) {
                if (eb[i] != ab[i]) {
                    return "element " + i + ": " + Ref.values(a)[i] + ", expected " + Ref.values(e)[i];
                }
            }
            return null;
        }
        if (expected instanceof Object[] e && actual instanceof Object[] a) {
            for (int i = 0; i < e.length; i++) {
                String d = difference(e[i], a[i]);
                if (d != null) {
                    return "result " + i + ": " + d;
                }
            }
            return null;
        }
        return Arrays.deepEquals(new Object[] {expected}, new Object[] {actual}) ? null : "got " + actual + ", expected " + expected;
    }

    /** Every element's bits (halves as their exact float), read through shape and strides. */
    private static long[] bits(Tensor t) {
        long[] out = new long[t.numel()];
        Storage s = t.storage();
        for (int i = 0; i < out.length; i++) {
            int[] idx = Ref.unravel(i, t.shape());
            int at = t.offset();
            for (int d = 0; d < idx.length; d++) {
                at += idx[d] * t.stride(d);
            }
            out[i] = switch (t.dtype()) {
                case F64 -> Double.doubleToRawLongBits(s.getDouble(at));
                case F32, BF16, F16 -> Float.floatToRawIntBits(s.getFloat(at));
                default -> s.getLong(at);
            };
        }
        return out;
    }

    @Test
    void heapContiguousCopiesSegmentsOnceAndBitExactly() {
        Tensor heap = X.heapContiguous(DType.F32);
        assertSame(X, heap, "a contiguous heap tensor of the dtype is returned as is");
        short[] raw = {(short) 0x7f81, (short) 0xffc3, 0x3f80, (short) 0x8000, 1}; // signalling and quiet NaN payloads, 1, -0, subnormal
        Tensor halves = Tensor.of(Storage.wrap(DType.BF16, raw), 5);
        for (Kind kind : new Kind[] {Kind.OFF_HEAP, Kind.MAPPED}) {
            Tensor t = place(kind, halves).heapContiguous(DType.BF16);
            assertArrayEquals(raw, (short[]) t.storage().array(), kind + ": BF16 bits, NaN payloads included");
            Tensor f = place(kind, X).mT().heapContiguous(DType.F32);
            assertTrue(f.isContiguous() && f.storage().floats() != null, kind + ": heap and contiguous");
            assertArrayEquals(X.mT().contiguous().toFloatArray(), f.toFloatArray(), kind.toString());
        }
    }

    @Test
    void placedInputsHoldTheHeapValues() {
        for (Kind kind : Kind.values()) {
            for (Tensor t : new Tensor[] {X, INTS, MASK, X.to(DType.BF16), X.to(DType.F64)}) {
                Tensor p = place(kind, t);
                assertEquals(kind == Kind.HEAP, p.storage().array() != null, kind + " storage");
                assertEquals(null, difference(t, p), kind + " " + t.dtype());
            }
        }
    }
}

package dev.tessera.tensor;

import java.util.Arrays;

/**
 * An n-dimensional array: a {@link Storage} read through a shape, strides and an offset.
 *
 * <p>Views (reshape, permute, slice, expand, ...) share storage and cost nothing; ops return new
 * contiguous tensors; methods ending in {@code InPlace} write into this tensor and bump its
 * storage's version. Every op validates its arguments here, at the API boundary, and fails with a
 * one-line message naming the op and the shapes or dtypes.
 *
 * <p>A tensor's device is its storage's. Every op goes through {@link Dispatch}, which runs the CPU
 * kernel for CPU inputs and hands anything else to the device's {@link Backend}; views only change
 * shape, strides and offset, so they work on every device unchanged. Reading elements of a device
 * tensor ({@link #item()}, {@link #toFloatArray()}, ...) copies them to the host first.
 */
public final class Tensor {
    private final Storage storage;
    private final int[] shape;
    private final int[] strides;
    private final int offset;

    Tensor(Storage storage, int[] shape, int[] strides, int offset) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    // ---------------------------------------------------------------- construction

    /** A contiguous tensor over {@code storage} (which must hold exactly numel(shape) elements). */
    public static Tensor of(Storage storage, int... shape) {
        int[] s = Shapes.checkShape("Tensor.of", shape);
        if (Shapes.numel(s) != storage.length()) {
            throw new IllegalArgumentException("Tensor.of: shape " + Shapes.str(s) + " needs " + Shapes.numel(s)
                    + " elements but storage holds " + storage.length());
        }
        return new Tensor(storage, s, Shapes.contiguousStrides(s), 0);
    }

    /** A view with explicit strides and offset over {@code storage} (PyTorch's as_strided), bounds-checked. */
    public static Tensor asStrided(Storage storage, int[] shape, int[] strides, int offset) {
        int[] s = Shapes.checkShape("asStrided", shape);
        if (strides.length != s.length) {
            throw new IllegalArgumentException("asStrided: " + s.length + "-d shape with " + strides.length + " strides");
        }
        long min = offset;
        long max = offset;
        if (Shapes.numel(s) > 0) {
            for (int d = 0; d < s.length; d++) {
                long span = (long) (s[d] - 1) * strides[d];
                if (span < 0) {
                    min += span;
                } else {
                    max += span;
                }
            }
            if (min < 0 || max >= storage.length()) {
                throw new IllegalArgumentException("asStrided: shape " + Shapes.str(s) + " strides " + Arrays.toString(strides)
                        + " offset " + offset + " reaches outside storage of " + storage.length());
            }
        }
        return new Tensor(storage, s, strides.clone(), offset);
    }

    public static Tensor zeros(int... shape) {
        return zeros(DType.F32, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        int[] s = Shapes.checkShape("zeros", shape);
        return new Tensor(Storage.allocate(dtype, Shapes.numel(s)), s, Shapes.contiguousStrides(s), 0);
    }

    /** Zeros on {@code device}. */
    public static Tensor zeros(Device device, DType dtype, int... shape) {
        if (device == Device.CPU) {
            return zeros(dtype, shape);
        }
        int[] s = Shapes.checkShape("zeros", shape);
        Storage storage = Dispatch.backend(device).allocate(dtype, (int) Shapes.numel(s));
        return new Tensor(storage, s, Shapes.contiguousStrides(s), 0);
    }

    /** Zeros of this tensor's shape, dtype and device (PyTorch's {@code zeros_like}). */
    public Tensor zerosLike() {
        return zeros(device(), dtype(), shape);
    }

    /** {@code value} in this tensor's shape, dtype and device (PyTorch's {@code full_like}). */
    public Tensor fullLike(double value) {
        return zerosLike().fillInPlace(value);
    }

    public static Tensor ones(int... shape) {
        return full(1, DType.F32, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return full(1, dtype, shape);
    }

    public static Tensor full(double value, DType dtype, int... shape) {
        return zeros(dtype, shape).fillInPlace(value);
    }

    /** A 0-d tensor. */
    public static Tensor scalar(double value, DType dtype) {
        return full(value, dtype);
    }

    public static Tensor scalar(double value) {
        return full(value, DType.F32);
    }

    /**
     * A tensor holding a copy of {@code data} in {@code shape}. Without a shape: one value gives a
     * 0-d tensor (shape {@code []}, PyTorch's {@code torch.tensor(v)}, read with {@link #item()};
     * {@code getDouble(0)} throws because there is no dimension 0), more values a 1-d tensor. Pass
     * the shape for a 1-d tensor of one element: {@code Tensor.of(new float[] {v}, 1)}.
     */
    public static Tensor of(float[] data, int... shape) {
        return of(Storage.wrap(DType.F32, data.clone()), shape.length == 0 && data.length != 1 ? new int[] {data.length} : shape);
    }

    /** As {@link #of(float[], int...)}: one value and no shape is 0-d. */
    public static Tensor of(double[] data, int... shape) {
        return of(Storage.wrap(DType.F64, data.clone()), shape.length == 0 && data.length != 1 ? new int[] {data.length} : shape);
    }

    public static Tensor of(int[] data, int... shape) {
        return of(Storage.wrap(DType.I32, data.clone()), shape.length == 0 && data.length != 1 ? new int[] {data.length} : shape);
    }

    /** As {@link #of(float[], int...)}: one value and no shape is 0-d. */
    public static Tensor of(long[] data, int... shape) {
        return of(Storage.wrap(DType.I64, data.clone()), shape.length == 0 && data.length != 1 ? new int[] {data.length} : shape);
    }

    public static Tensor of(boolean[] data, int... shape) {
        byte[] bytes = new byte[data.length];
        for (int i = 0; i < data.length; i++) {
            bytes[i] = (byte) (data[i] ? 1 : 0);
        }
        return of(Storage.wrap(DType.BOOL, bytes), shape.length == 0 && data.length != 1 ? new int[] {data.length} : shape);
    }

    /** 0, 1, ..., end-1 as I64 (PyTorch's default for integer arange). */
    public static Tensor arange(long end) {
        return arange(0, end, 1, DType.I64);
    }

    /** start, start+step, ... while below end (above, for negative steps). */
    public static Tensor arange(double start, double end, double step, DType dtype) {
        if (step == 0 || Double.isNaN(step) || Double.isNaN(start) || Double.isNaN(end)) {
            throw new IllegalArgumentException("arange: step must be non-zero and bounds finite, got start=" + start
                    + " end=" + end + " step=" + step);
        }
        long n = Math.max(0, (long) Math.ceil((end - start) / step));
        Tensor t = zeros(dtype, Math.toIntExact(n));
        for (int i = 0; i < n; i++) {
            t.storage.setDouble(i, start + i * step);
        }
        return t;
    }

    /** {@code steps} evenly spaced values from start to end inclusive; one step gives start, as in PyTorch. */
    public static Tensor linspace(double start, double end, int steps, DType dtype) {
        if (steps < 0) {
            throw new IllegalArgumentException("linspace: steps must be >= 0, got " + steps);
        }
        Tensor t = zeros(dtype, steps);
        if (steps == 1) {
            t.storage.setDouble(0, start); // PyTorch: one step is the start
            return t;
        }
        double step = (end - start) / (steps - 1);
        for (int i = 0; i < steps; i++) {
            // the second half counts back from the end so both endpoints are exact, as PyTorch does
            t.storage.setDouble(i, i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step);
        }
        return t;
    }

    public static Tensor eye(int n, DType dtype) {
        Tensor t = zeros(dtype, n, n);
        for (int i = 0; i < n; i++) {
            t.storage.setDouble(i * n + i, 1);
        }
        return t;
    }

    /** Uniform in [0, 1). */
    public static Tensor rand(Generator g, DType dtype, int... shape) {
        Tensor t = zeros(dtype, shape);
        for (int i = 0; i < t.storage.length(); i++) {
            t.storage.setDouble(i, g.nextDouble());
        }
        return t;
    }

    /** Standard normal. */
    public static Tensor randn(Generator g, DType dtype, int... shape) {
        Tensor t = zeros(dtype, shape);
        for (int i = 0; i < t.storage.length(); i++) {
            t.storage.setDouble(i, g.nextGaussian());
        }
        return t;
    }

    /** Integers uniform in [low, high). */
    public static Tensor randint(Generator g, long low, long high, DType dtype, int... shape) {
        if (high <= low) {
            throw new IllegalArgumentException("randint: empty range [" + low + ", " + high + ")");
        }
        Tensor t = zeros(dtype, shape);
        for (int i = 0; i < t.storage.length(); i++) {
            t.storage.setLong(i, low + g.nextLong(high - low));
        }
        return t;
    }

    // ---------------------------------------------------------------- metadata

    public Storage storage() {
        return storage;
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    /** Whether the storage is host memory (the CPU device): the fast test {@link Dispatch} makes per input. */
    boolean onHost() {
        return storage.deviceMemory() == null;
    }

    /**
     * This tensor on {@code target}: itself when already there, otherwise a contiguous copy (PyTorch's
     * {@code .to(device)}); device-to-device copies go through the host.
     */
    public Tensor to(Device target) {
        Device from = device();
        if (from == target) {
            return this;
        }
        Tensor host = from == Device.CPU ? this : Dispatch.backend(from).download(this);
        return target == Device.CPU ? host : new Tensor(Dispatch.backend(target).upload(host.contiguous()), shape.clone(),
                Shapes.contiguousStrides(shape), 0);
    }

    /** The one element at storage index {@code at} of a device tensor, copied to the host. */
    private Tensor hostElement(int at) {
        return new Tensor(storage, new int[0], new int[0], at).to(Device.CPU);
    }

    public int[] shape() {
        return shape.clone();
    }

    public int[] strides() {
        return strides.clone();
    }

    public int offset() {
        return offset;
    }

    public int rank() {
        return shape.length;
    }

    public int size(int dim) {
        return shape[Shapes.dim("size", dim, shape.length)];
    }

    public int stride(int dim) {
        return strides[Shapes.dim("stride", dim, shape.length)];
    }

    public int numel() {
        return (int) Shapes.numel(shape);
    }

    /** Row-major contiguous (size-1 dims may have any stride). */
    public boolean isContiguous() {
        int expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return numel() == 0;
            }
            expected *= shape[d];
        }
        return true;
    }

    /** The storage index of the element at {@code index}. */
    int storageIndex(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index: " + index.length + " indices for a " + shape.length + "-d tensor of shape "
                    + Shapes.str(shape));
        }
        int at = offset;
        for (int d = 0; d < index.length; d++) {
            int i = index[d] < 0 ? index[d] + shape[d] : index[d];
            if (i < 0 || i >= shape[d]) {
                throw new IndexOutOfBoundsException("index: " + index[d] + " out of range for dim " + d + " of size " + shape[d]);
            }
            at += i * strides[d];
        }
        return at;
    }

    public double getDouble(int... index) {
        int at = storageIndex(index);
        if (onHost()) {
            return storage.getDouble(at);
        }
        Tensor e = hostElement(at);
        return e.storage.getDouble(e.offset);
    }

    public float getFloat(int... index) {
        int at = storageIndex(index);
        if (onHost()) {
            return storage.getFloat(at);
        }
        Tensor e = hostElement(at);
        return e.storage.getFloat(e.offset);
    }

    public long getLong(int... index) {
        int at = storageIndex(index);
        if (onHost()) {
            return storage.getLong(at);
        }
        Tensor e = hostElement(at);
        return e.storage.getLong(e.offset);
    }

    public void set(double value, int... index) {
        int at = storageIndex(index);
        if (onHost()) {
            storage.setDouble(at, value);
            storage.bumpVersion();
        } else {
            new Tensor(storage, new int[0], new int[0], at).fillInPlace(value);
        }
    }

    /** The value of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new IllegalArgumentException("item: tensor of shape " + Shapes.str(shape) + " has " + numel() + " elements, not 1");
        }
        if (onHost()) {
            return storage.getDouble(offset);
        }
        Tensor e = hostElement(offset);
        return e.storage.getDouble(e.offset);
    }

    /** All elements in row-major order. */
    public float[] toFloatArray() {
        if (numel() == 0) {
            return new float[0];
        }
        Tensor c = Ops.materialize(to(Device.CPU).to(DType.F32).contiguous(), DType.F32); // mapped storage is copied out
        return Arrays.copyOfRange(c.storage.floats(), c.offset, c.offset + c.numel());
    }

    public double[] toDoubleArray() {
        if (numel() == 0) {
            return new double[0];
        }
        Tensor c = Ops.materialize(to(Device.CPU).to(DType.F64).contiguous(), DType.F64); // mapped storage is copied out
        return Arrays.copyOfRange(c.storage.doubles(), c.offset, c.offset + c.numel());
    }

    public long[] toLongArray() {
        if (numel() == 0) {
            return new long[0];
        }
        Tensor c = Ops.materialize(to(Device.CPU).to(DType.I64).contiguous(), DType.I64); // mapped storage is copied out
        return Arrays.copyOfRange(c.storage.longs(), c.offset, c.offset + c.numel());
    }

    @Override
    public String toString() {
        return onHost() ? TensorFormat.format(this) : TensorFormat.format(to(Device.CPU)) + " on " + device().label();
    }

    // ---------------------------------------------------------------- views

    /** Same data, new shape; one size may be -1. Fails if the strides cannot express it (use reshape). */
    public Tensor view(int... newShape) {
        int[] s = inferShape("view", newShape);
        int[] st = Views.viewStrides(shape, strides, s);
        if (st == null) {
            throw new IllegalArgumentException("view: shape " + Shapes.str(s) + " is not compatible with strides "
                    + Arrays.toString(strides) + " of shape " + Shapes.str(shape) + "; call reshape() to copy");
        }
        return new Tensor(storage, s, st, offset);
    }

    /** A view when possible, otherwise a contiguous copy. */
    public Tensor reshape(int... newShape) {
        int[] s = inferShape("reshape", newShape);
        int[] st = Views.viewStrides(shape, strides, s);
        return st != null ? new Tensor(storage, s, st, offset) : contiguous().view(s);
    }

    private int[] inferShape(String op, int[] newShape) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int d = 0; d < s.length; d++) {
            if (s[d] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException(op + ": only one dimension can be -1 in " + Arrays.toString(newShape));
                }
                infer = d;
            } else if (s[d] < 0) {
                throw new IllegalArgumentException(op + ": invalid size " + s[d] + " in " + Arrays.toString(newShape));
            } else {
                known *= s[d];
            }
        }
        long n = numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException(op + ": shape " + Arrays.toString(newShape) + " is invalid for input of size " + n);
            }
            s[infer] = (int) (n / known);
        } else if (known != n) {
            throw new IllegalArgumentException(op + ": shape " + Arrays.toString(newShape) + " is invalid for input of size " + n);
        }
        return s;
    }

    public Tensor permute(int... dims) {
        if (dims.length != shape.length) {
            throw new IllegalArgumentException("permute: " + dims.length + " dims given for a " + shape.length + "-d tensor");
        }
        int[] s = new int[dims.length];
        int[] st = new int[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int d = Shapes.dim("permute", dims[i], shape.length);
            if (seen[d]) {
                throw new IllegalArgumentException("permute: dim " + dims[i] + " repeated in " + Arrays.toString(dims));
            }
            seen[d] = true;
            s[i] = shape[d];
            st[i] = strides[d];
        }
        return new Tensor(storage, s, st, offset);
    }

    public Tensor transpose(int dim0, int dim1) {
        int a = Shapes.dim("transpose", dim0, shape.length);
        int b = Shapes.dim("transpose", dim1, shape.length);
        int[] s = shape.clone();
        int[] st = strides.clone();
        s[a] = shape[b];
        s[b] = shape[a];
        st[a] = strides[b];
        st[b] = strides[a];
        return new Tensor(storage, s, st, offset);
    }

    /** Transpose of the last two dims (matrix transpose, batched). */
    public Tensor mT() {
        if (shape.length < 2) {
            throw new IllegalArgumentException("mT: needs at least 2 dims, got shape " + Shapes.str(shape));
        }
        return transpose(-2, -1);
    }

    public Tensor squeeze() {
        int n = 0;
        for (int s : shape) {
            n += s == 1 ? 0 : 1;
        }
        int[] s = new int[n];
        int[] st = new int[n];
        for (int d = 0, j = 0; d < shape.length; d++) {
            if (shape[d] != 1) {
                s[j] = shape[d];
                st[j++] = strides[d];
            }
        }
        return new Tensor(storage, s, st, offset);
    }

    /**
     * Removes {@code dim} if its size is 1 (otherwise returns this view unchanged, as PyTorch does). A 0-d tensor
     * accepts dim 0 or -1, as PyTorch's scalar dim wrapping does, and comes back unchanged.
     */
    public Tensor squeeze(int dim) {
        if (shape.length == 0) {
            if (dim != 0 && dim != -1) {
                throw new IllegalArgumentException("squeeze: dim " + dim + " out of range for a 0-d tensor (expected 0 or -1)");
            }
            return this;
        }
        int d = Shapes.dim("squeeze", dim, shape.length);
        if (shape[d] != 1) {
            return this;
        }
        return new Tensor(storage, Views.remove(shape, d), Views.remove(strides, d), offset);
    }

    public Tensor unsqueeze(int dim) {
        int d = Shapes.dim("unsqueeze", dim, shape.length + 1);
        int stride = d < shape.length ? strides[d] * shape[d] : 1;
        return new Tensor(storage, Views.insert(shape, d, 1), Views.insert(strides, d, stride), offset);
    }

    /** Broadcasts size-1 dims (and new leading dims) to {@code sizes}; -1 keeps a size. No copy. */
    public Tensor expand(int... sizes) {
        if (sizes.length < shape.length) {
            throw new IllegalArgumentException("expand: cannot expand shape " + Shapes.str(shape) + " to " + Arrays.toString(sizes));
        }
        int[] target = sizes.clone();
        int lead = sizes.length - shape.length;
        for (int d = 0; d < shape.length; d++) {
            if (target[lead + d] == -1) {
                target[lead + d] = shape[d];
            }
        }
        Shapes.checkShape("expand", target);
        return new Tensor(storage, target, Shapes.broadcastStrides("expand", shape, strides, target), offset);
    }

    public Tensor expandAs(Tensor other) {
        return expand(other.shape);
    }

    /** Elements {@code start .. start+length-1} of {@code dim}. */
    public Tensor narrow(int dim, int start, int length) {
        int d = Shapes.dim("narrow", dim, shape.length);
        int st = start < 0 ? start + shape[d] : start;
        if (st < 0 || length < 0 || st + length > shape[d]) {
            throw new IllegalArgumentException("narrow: start " + start + " length " + length + " out of range for dim " + dim
                    + " of size " + shape[d]);
        }
        int[] s = shape.clone();
        s[d] = length;
        return new Tensor(storage, s, strides.clone(), offset + st * strides[d]);
    }

    /** Python's {@code x[start:end:step]} along {@code dim}; bounds are clamped as Python does, step &gt; 0. */
    public Tensor slice(int dim, int start, int end, int step) {
        int d = Shapes.dim("slice", dim, shape.length);
        if (step <= 0) {
            throw new IllegalArgumentException("slice: step must be positive, got " + step);
        }
        int n = shape[d];
        int from = Math.clamp(start < 0 ? start + n : start, 0, n);
        int to = Math.clamp(end < 0 ? end + n : end, 0, n);
        int len = to > from ? (to - from + step - 1) / step : 0;
        int[] s = shape.clone();
        int[] st = strides.clone();
        s[d] = len;
        st[d] = strides[d] * step;
        return new Tensor(storage, s, st, offset + (len > 0 ? from * strides[d] : 0));
    }

    /** Removes {@code dim}, keeping index {@code index} of it. */
    public Tensor select(int dim, int index) {
        int d = Shapes.dim("select", dim, shape.length);
        int i = index < 0 ? index + shape[d] : index;
        if (i < 0 || i >= shape[d]) {
            throw new IndexOutOfBoundsException("select: index " + index + " out of range for dim " + dim + " of size " + shape[d]);
        }
        return new Tensor(storage, Views.remove(shape, d), Views.remove(strides, d), offset + i * strides[d]);
    }

    public Tensor flatten() {
        return reshape(-1);
    }

    /** Merges dims {@code startDim..endDim} (inclusive) into one. */
    public Tensor flatten(int startDim, int endDim) {
        if (shape.length == 0) {
            return reshape(1);
        }
        int a = Shapes.dim("flatten", startDim, shape.length);
        int b = Shapes.dim("flatten", endDim, shape.length);
        if (a > b) {
            throw new IllegalArgumentException("flatten: start dim " + startDim + " after end dim " + endDim);
        }
        int[] s = new int[shape.length - (b - a)];
        for (int d = 0, j = 0; d < shape.length; d++) {
            if (d <= a || d > b) {
                s[j++] = shape[d];
            } else {
                s[j - 1] *= shape[d];
            }
        }
        return reshape(s);
    }

    /** Splits {@code dim} into {@code sizes} (one may be -1). */
    public Tensor unflatten(int dim, int... sizes) {
        int d = Shapes.dim("unflatten", dim, shape.length);
        long known = 1;
        int infer = -1;
        int[] sz = sizes.clone();
        for (int i = 0; i < sz.length; i++) {
            if (sz[i] == -1) {
                infer = i;
            } else {
                known *= sz[i];
            }
        }
        if (infer >= 0 && known > 0) {
            sz[infer] = (int) (shape[d] / known);
        }
        if (Shapes.numel(sz) != shape[d]) {
            throw new IllegalArgumentException("unflatten: sizes " + Arrays.toString(sizes) + " do not multiply to " + shape[d]
                    + " (dim " + dim + " of " + Shapes.str(shape) + ")");
        }
        int[] s = new int[shape.length - 1 + sz.length];
        System.arraycopy(shape, 0, s, 0, d);
        System.arraycopy(sz, 0, s, d, sz.length);
        System.arraycopy(shape, d + 1, s, d + sz.length, shape.length - d - 1);
        return view(s);
    }

    /** Splits {@code dim} into pieces of {@code size} (the last may be smaller). Views. */
    public Tensor[] split(int size, int dim) {
        int d = Shapes.dim("split", dim, shape.length);
        if (size <= 0) {
            throw new IllegalArgumentException("split: size must be positive, got " + size);
        }
        int n = Math.max(1, (shape[d] + size - 1) / size);
        Tensor[] parts = new Tensor[n];
        for (int i = 0; i < n; i++) {
            int start = Math.min(i * size, shape[d]);
            parts[i] = narrow(d, start, Math.min(size, shape[d] - start));
        }
        return parts;
    }

    /** Splits {@code dim} into pieces of the given sizes, which must sum to its size. */
    public Tensor[] split(int[] sizes, int dim) {
        int d = Shapes.dim("split", dim, shape.length);
        long total = 0;
        for (int s : sizes) {
            total += s;
        }
        if (total != shape[d]) {
            throw new IllegalArgumentException("split: sizes " + Arrays.toString(sizes) + " sum to " + total + " but dim " + dim
                    + " has size " + shape[d]);
        }
        Tensor[] parts = new Tensor[sizes.length];
        for (int i = 0, start = 0; i < sizes.length; start += sizes[i++]) {
            parts[i] = narrow(d, start, sizes[i]);
        }
        return parts;
    }

    /** {@code chunks} nearly equal pieces along {@code dim}, as torch.chunk. */
    public Tensor[] chunk(int chunks, int dim) {
        if (chunks <= 0) {
            throw new IllegalArgumentException("chunk: number of chunks must be positive, got " + chunks);
        }
        int d = Shapes.dim("chunk", dim, shape.length);
        return split(Math.max(1, (shape[d] + chunks - 1) / chunks), d);
    }

    /** The diagonal of dims {@code dim1, dim2} shifted by {@code offsetFromMain}, as the last dim. */
    public Tensor diagonal(int offsetFromMain, int dim1, int dim2) {
        int a = Shapes.dim("diagonal", dim1, shape.length);
        int b = Shapes.dim("diagonal", dim2, shape.length);
        if (a == b) {
            throw new IllegalArgumentException("diagonal: dims must differ, got " + dim1 + " and " + dim2);
        }
        int start = offset;
        int len;
        if (offsetFromMain >= 0) {
            len = Math.max(0, Math.min(shape[a], shape[b] - offsetFromMain));
            start += len > 0 ? offsetFromMain * strides[b] : 0;
        } else {
            len = Math.max(0, Math.min(shape[a] + offsetFromMain, shape[b]));
            start += len > 0 ? -offsetFromMain * strides[a] : 0;
        }
        int[] s = new int[shape.length - 1];
        int[] st = new int[shape.length - 1];
        for (int d = 0, j = 0; d < shape.length; d++) {
            if (d != a && d != b) {
                s[j] = shape[d];
                st[j++] = strides[d];
            }
        }
        s[s.length - 1] = len;
        st[st.length - 1] = strides[a] + strides[b];
        return new Tensor(storage, s, st, start);
    }

    /** This tensor when already contiguous, otherwise a contiguous copy. */
    public Tensor contiguous() {
        return isContiguous() ? this : copy();
    }

    /**
     * This tensor as {@code dtype}, contiguous, on heap array storage, so a kernel may index
     * {@code storage().floats()} (or {@code doubles()}, ...) from {@link #offset()} on. Copies once
     * when needed: for another dtype, a strided view, or mapped or off-heap storage (whose
     * {@link Storage#array()} is null). This tensor when it already qualifies.
     */
    public Tensor heapContiguous(DType dtype) {
        return Ops.materialize(this, dtype).contiguous();
    }

    /** A contiguous copy that owns its storage. */
    public Tensor copy() {
        return Dispatch.run("copy", null, in -> {
            Tensor out = zeros(in[0].dtype(), in[0].shape);
            Copy.copy(in[0], out);
            return out;
        }, this);
    }

    /** Converted to {@code dtype} (rounding to nearest even for floats); this tensor if it already is. */
    public Tensor to(DType dtype) {
        if (dtype == dtype()) {
            return this;
        }
        return Dispatch.run("to_dtype", dtype, in -> {
            Tensor out = zeros(dtype, in[0].shape);
            Copy.copy(in[0], out);
            return out;
        }, this);
    }

    /** Copies {@code src} (broadcast to this shape, converted to this dtype) into this tensor. */
    public Tensor copyFromInPlace(Tensor src) {
        Tensor here = src.device() == device() || src.onHost() && src.rank() == 0 ? src : src.to(device()); // copy_ crosses devices
        Tensor b = here.shape.length == shape.length && Arrays.equals(here.shape, shape) ? here : here.expand(shape);
        Dispatch.run("copy_", null, in -> {
            Copy.copy(in[1], in[0]);
            in[0].storage.bumpVersion();
            return null;
        }, this, b);
        return this;
    }

    public Tensor fillInPlace(double value) {
        Dispatch.run("fill_", value, in -> {
            Copy.fill(in[0], value);
            in[0].storage.bumpVersion();
            return null;
        }, this);
        return this;
    }

    /** Concatenation along {@code dim} (copies). */
    public static Tensor cat(int dim, Tensor... tensors) {
        return Dispatch.run("cat", dim, in -> Copy.cat(dim, in), tensors);
    }

    /** Stacks equal-shaped tensors along a new {@code dim} (copies). */
    public static Tensor stack(int dim, Tensor... tensors) {
        if (tensors.length == 0) {
            throw new IllegalArgumentException("stack: needs at least one tensor");
        }
        Tensor[] u = new Tensor[tensors.length];
        for (int i = 0; i < u.length; i++) {
            if (!Arrays.equals(tensors[i].shape, tensors[0].shape)) {
                throw new IllegalArgumentException("stack: tensor " + i + " has shape " + Shapes.str(tensors[i].shape)
                        + " but tensor 0 has " + Shapes.str(tensors[0].shape));
            }
            u[i] = tensors[i].unsqueeze(dim);
        }
        return cat(dim, u);
    }

    // ---------------------------------------------------------------- elementwise

    public Tensor apply(UnaryOp op) {
        return Dispatch.run("unary", op, in -> Ops.unary(op, in[0]), this);
    }

    public Tensor applyInPlace(UnaryOp op) {
        Dispatch.run("unary_", op, in -> Ops.unaryInPlace(op, in[0]), this);
        return this;
    }

    /** Writes op(this) into {@code out} (PyTorch's {@code out=}): same shape, the result's dtype. */
    public Tensor applyInto(UnaryOp op, Tensor out) {
        Dispatch.run("unary_out", op, in -> Ops.unaryInto(op, in[0], in[1]), this, out);
        return out;
    }

    public Tensor apply(BinaryOp op, Tensor other) {
        return Dispatch.run("binary", op, in -> Ops.binary(op, in[0], in[1]), this, other);
    }

    public Tensor applyInPlace(BinaryOp op, Tensor other) {
        Dispatch.run("binary_", op, in -> Ops.binaryInPlace(op, in[0], in[1]), this, other);
        return this;
    }

    /**
     * A number as an operand of this tensor's dtype (F32 for a fractional number on an integer
     * tensor). Rounding it to a half type first is what PyTorch does for add, sub, pow,
     * maximum/minimum and comparisons; mul and div keep it in F32 instead ({@link #scaled}).
     */
    private Tensor scalarLike(double v) {
        return scalar(v, dtype().isFloating() || v == Math.rint(v) ? dtype() : DType.F32);
    }

    /**
     * this·s or this/s. PyTorch's mul and div kernels keep the number in the compute type, so on
     * BF16/F16 x·0.1 is x·0.1f in F32 rounded once to the half type (not x·bf16(0.1), 0.1% off).
     */
    private Tensor scaled(BinaryOp op, double s) {
        return isHalf() ? Dispatch.run("half_by_scalar", new Object[] {op, s}, in -> Ops.halfByScalar(op, in[0], s), this)
                : apply(op, scalarLike(s));
    }

    private boolean isHalf() {
        return dtype() == DType.BF16 || dtype() == DType.F16;
    }

    public Tensor add(Tensor o) { return apply(BinaryOp.ADD, o); }
    public Tensor sub(Tensor o) { return apply(BinaryOp.SUB, o); }
    public Tensor mul(Tensor o) { return apply(BinaryOp.MUL, o); }
    public Tensor div(Tensor o) { return apply(BinaryOp.DIV, o); }
    public Tensor pow(Tensor o) { return apply(BinaryOp.POW, o); }
    public Tensor maximum(Tensor o) { return apply(BinaryOp.MAXIMUM, o); }
    public Tensor minimum(Tensor o) { return apply(BinaryOp.MINIMUM, o); }
    public Tensor add(double s) { return apply(BinaryOp.ADD, scalarLike(s)); }
    public Tensor sub(double s) { return apply(BinaryOp.SUB, scalarLike(s)); }
    /** s − this (PyTorch's {@code torch.rsub}). */
    public Tensor rsub(double s) { return scalarLike(s).sub(this); }
    public Tensor mul(double s) { return scaled(BinaryOp.MUL, s); }
    public Tensor div(double s) { return scaled(BinaryOp.DIV, s); }
    public Tensor pow(double s) { return apply(BinaryOp.POW, scalarLike(s)); }
    public Tensor maximum(double s) { return apply(BinaryOp.MAXIMUM, scalarLike(s)); }
    public Tensor minimum(double s) { return apply(BinaryOp.MINIMUM, scalarLike(s)); }
    public Tensor addInPlace(Tensor o) { return applyInPlace(BinaryOp.ADD, o); }
    public Tensor subInPlace(Tensor o) { return applyInPlace(BinaryOp.SUB, o); }
    public Tensor mulInPlace(Tensor o) { return applyInPlace(BinaryOp.MUL, o); }
    public Tensor divInPlace(Tensor o) { return applyInPlace(BinaryOp.DIV, o); }
    public Tensor addInPlace(double s) { return applyInPlace(BinaryOp.ADD, scalar(s, dtype())); }
    public Tensor mulInPlace(double s) { return isHalf() ? copyFromInPlace(mul(s)) : applyInPlace(BinaryOp.MUL, scalar(s, dtype())); }

    public Tensor eq(Tensor o) { return apply(BinaryOp.EQ, o); }
    public Tensor ne(Tensor o) { return apply(BinaryOp.NE, o); }
    public Tensor lt(Tensor o) { return apply(BinaryOp.LT, o); }
    public Tensor le(Tensor o) { return apply(BinaryOp.LE, o); }
    public Tensor gt(Tensor o) { return apply(BinaryOp.GT, o); }
    public Tensor ge(Tensor o) { return apply(BinaryOp.GE, o); }
    public Tensor eq(double s) { return apply(BinaryOp.EQ, scalarLike(s)); }
    public Tensor lt(double s) { return apply(BinaryOp.LT, scalarLike(s)); }
    public Tensor gt(double s) { return apply(BinaryOp.GT, scalarLike(s)); }
    public Tensor ne(double s) { return apply(BinaryOp.NE, scalarLike(s)); }
    public Tensor le(double s) { return apply(BinaryOp.LE, scalarLike(s)); }
    public Tensor ge(double s) { return apply(BinaryOp.GE, scalarLike(s)); }
    public Tensor logicalAnd(Tensor o) { return apply(BinaryOp.LOGICAL_AND, o); }
    public Tensor logicalOr(Tensor o) { return apply(BinaryOp.LOGICAL_OR, o); }
    public Tensor logicalNot() { return apply(UnaryOp.LOGICAL_NOT); }

    public Tensor neg() { return apply(UnaryOp.NEG); }
    public Tensor exp() { return apply(UnaryOp.EXP); }
    public Tensor log() { return apply(UnaryOp.LOG); }
    public Tensor log1p() { return apply(UnaryOp.LOG1P); }
    public Tensor expm1() { return apply(UnaryOp.EXPM1); }
    public Tensor sqrt() { return apply(UnaryOp.SQRT); }
    public Tensor rsqrt() { return apply(UnaryOp.RSQRT); }
    public Tensor abs() { return apply(UnaryOp.ABS); }
    /**
     * −1, 0 or 1 by the sign of each element, as PyTorch computes it, (0 &lt; x) − (x &lt; 0): so
     * sign(NaN) = 0 (not NaN, as Math.signum gives) and sign(−0) = sign(+0) = +0. Integers and BOOL keep their type.
     */
    public Tensor sign() { return apply(UnaryOp.SIGN); }
    public Tensor sin() { return apply(UnaryOp.SIN); }
    public Tensor cos() { return apply(UnaryOp.COS); }
    public Tensor tanh() { return apply(UnaryOp.TANH); }
    public Tensor sigmoid() { return apply(UnaryOp.SIGMOID); }
    public Tensor relu() { return apply(UnaryOp.RELU); }
    public Tensor gelu() { return apply(UnaryOp.GELU_ERF); }
    public Tensor geluTanh() { return apply(UnaryOp.GELU_TANH); }
    public Tensor silu() { return apply(UnaryOp.SILU); }
    public Tensor softplus() { return apply(UnaryOp.SOFTPLUS); }
    public Tensor erf() { return apply(UnaryOp.ERF); }
    public Tensor square() { return apply(UnaryOp.SQUARE); }
    public Tensor reciprocal() { return apply(UnaryOp.RECIPROCAL); }

    /** Clamps into [min, max]; pass NaN to leave a side open. */
    public Tensor clamp(double min, double max) {
        Tensor t = this;
        if (!Double.isNaN(min)) {
            t = t.maximum(min);
        }
        if (!Double.isNaN(max)) {
            t = t.minimum(max);
        }
        return t == this ? copy() : t;
    }

    /** {@code condition ? a : b} elementwise, all three broadcast together. */
    public static Tensor where(Tensor condition, Tensor a, Tensor b) {
        return Dispatch.run("where", null, in -> Ops.where(in[0], in[1], in[2]), condition, a, b);
    }

    /** Writes {@code value} where {@code mask} (BOOL, broadcastable to this) is true. */
    public Tensor maskedFill(Tensor mask, double value) {
        return where(mask, scalar(value, dtype()), this);
    }

    // ---------------------------------------------------------------- reductions

    /*
     * Reductions. dims: the dimensions to reduce (negative counts from the end); none reduces all of
     * them, to a 0-d tensor (as torch.sum(x) does). keepDim, where given, comes first and keeps each
     * reduced dimension with size 1, so the result broadcasts against this tensor. max/min return the
     * values only (argmax/argmin give the indices).
     */

    /** Σ over {@code dims} (all of them, to a 0-d tensor, when none are given). */
    public Tensor sum(int... dims) { return Dispatch.run("sum", dims, in -> Reductions.reduce(ReduceOp.SUM, in[0], dims, false), this); }
    public Tensor sum(boolean keepDim, int... dims) { return Dispatch.run("sum", new Object[] {keepDim, dims}, in -> Reductions.reduce(ReduceOp.SUM, in[0], dims, keepDim), this); }
    public Tensor prod(boolean keepDim, int... dims) { return Dispatch.run("prod", new Object[] {keepDim, dims}, in -> Reductions.reduce(ReduceOp.PROD, in[0], dims, keepDim), this); }
    public Tensor max(boolean keepDim, int... dims) { return Dispatch.run("max", new Object[] {keepDim, dims}, in -> Reductions.reduce(ReduceOp.MAX, in[0], dims, keepDim), this); }
    public Tensor min(boolean keepDim, int... dims) { return Dispatch.run("min", new Object[] {keepDim, dims}, in -> Reductions.reduce(ReduceOp.MIN, in[0], dims, keepDim), this); }
    public Tensor mean(int... dims) { return Dispatch.run("mean", dims, in -> Reductions.mean(in[0], dims, false), this); }
    public Tensor mean(boolean keepDim, int... dims) { return Dispatch.run("mean", new Object[] {keepDim, dims}, in -> Reductions.mean(in[0], dims, keepDim), this); }
    /** Variance with Bessel-style {@code correction} (1 = unbiased, as PyTorch's default). */
    public Tensor var(int correction, boolean keepDim, int... dims) { return Dispatch.run("var", new Object[] {correction, keepDim, dims}, in -> Reductions.var(in[0], dims, correction, keepDim), this); }
    public Tensor std(int correction, boolean keepDim, int... dims) { return var(correction, keepDim, dims).sqrt(); }
    public Tensor logsumexp(boolean keepDim, int... dims) { return Dispatch.run("logsumexp", new Object[] {keepDim, dims}, in -> Reductions.logsumexp(in[0], dims, keepDim), this); }
    /** p-norm over dims (p = 2 Euclidean; p = Infinity max-abs). */
    public Tensor norm(double p, boolean keepDim, int... dims) { return Dispatch.run("norm", new Object[] {p, keepDim, dims}, in -> Reductions.norm(in[0], p, dims, keepDim), this); }
    public Tensor argmax(int dim, boolean keepDim) { return Dispatch.run("argmax", new Object[] {dim, keepDim}, in -> Reductions.argExtreme(in[0], dim, keepDim, true), this); }
    public Tensor argmin(int dim, boolean keepDim) { return Dispatch.run("argmin", new Object[] {dim, keepDim}, in -> Reductions.argExtreme(in[0], dim, keepDim, false), this); }
    public Tensor cumsum(int dim) { return Dispatch.run("cumsum", dim, in -> Reductions.cumsum(in[0], dim), this); }
    public Tensor softmax(int dim) { return Dispatch.run("softmax", dim, in -> Reductions.softmax(in[0], dim, false), this); }
    public Tensor logSoftmax(int dim) { return Dispatch.run("logSoftmax", dim, in -> Reductions.softmax(in[0], dim, true), this); }
    /** softmax(scale·this) over the last dim, leaving out entries where {@code allowed} (BOOL, broadcastable) is false. */
    public Tensor maskedSoftmax(Tensor allowed, double scale) { return Dispatch.run("maskedSoftmax", scale, in -> Reductions.maskedSoftmax(in[0], in[1], scale), this, allowed); }
    /** For y = softmax(α·x) over the last dim (this is y): ∂L/∂x = α·y ⊙ (g − Σ g ⊙ y), fused. */
    public Tensor softmaxBackward(Tensor grad, double scale) { return Dispatch.run("softmaxBackward", scale, in -> Reductions.softmaxBackward(in[0], in[1], scale), this, grad); }

    // ---------------------------------------------------------------- indexing (kernels in Indexing, Sorting)

    public Tensor indexSelect(int dim, Tensor index) { return Dispatch.run("indexSelect", dim, in -> Indexing.indexSelect(in[0], dim, in[1]), this, index); }
    public Tensor gather(int dim, Tensor index) { return Dispatch.run("gather", dim, in -> Indexing.gather(in[0], dim, in[1]), this, index); }
    public Tensor scatter(int dim, Tensor index, Tensor src) { return Dispatch.run("scatter", dim, in -> Indexing.scatter(in[0], dim, in[1], in[2]), this, index, src); }
    public Tensor scatterAdd(int dim, Tensor index, Tensor src) { return Dispatch.run("scatterAdd", dim, in -> Indexing.scatterAdd(in[0], dim, in[1], in[2]), this, index, src); }
    /** Rows of this (vocab, dim) table for each id: shape ids.shape + [dim]. */
    public Tensor embedding(Tensor ids) { return Dispatch.run("embedding", null, in -> Indexing.embedding(in[0], in[1]), this, ids); }
    public Tensor oneHot(int numClasses) { return Dispatch.run("oneHot", numClasses, in -> Indexing.oneHot(in[0], numClasses), this); }
    public Indexing.TopK topk(int k, int dim, boolean largest) {
        Tensor[] r = Dispatch.run("topk", new Object[] {k, dim, largest}, in -> {
            Indexing.TopK t = Indexing.topk(in[0], k, dim, largest, true);
            return new Tensor[] {t.values(), t.indices()};
        }, this);
        return new Indexing.TopK(r[0], r[1]);
    }
    public Indexing.Sorted sort(int dim, boolean descending) {
        Tensor[] r = Dispatch.run("sort", new Object[] {dim, descending}, in -> {
            Indexing.Sorted t = Indexing.sort(in[0], dim, descending);
            return new Tensor[] {t.values(), t.indices()};
        }, this);
        return new Indexing.Sorted(r[0], r[1]);
    }
    public Tensor argsort(int dim, boolean descending) { return Dispatch.run("argsort", new Object[] {dim, descending}, in -> Indexing.argsort(in[0], dim, descending), this); }
    public Tensor tril(int diagonal) { return Dispatch.run("tril", diagonal, in -> Indexing.tril(in[0], diagonal), this); }
    public Tensor triu(int diagonal) { return Dispatch.run("triu", diagonal, in -> Indexing.triu(in[0], diagonal), this); }
    public Tensor multinomial(int numSamples, boolean replacement, Generator g) { return Dispatch.run("multinomial", new Object[] {numSamples, replacement, g}, in -> Indexing.multinomial(in[0], numSamples, replacement, g), this); }

    // ---------------------------------------------------------------- spectral (Fft)

    /** Real FFT along dim: n/2+1 complex bins stored as a trailing (real, imag) dim of size 2. */
    public Tensor rfft(int dim) { return Dispatch.run("rfft", dim, in -> Fft.rfft(in[0], dim), this); }
    /** Inverse of rfft: this holds complex bins (trailing size-2 dim); the result is real with length n. */
    public Tensor irfft(int n, int dim) { return Dispatch.run("irfft", new Object[] {n, dim}, in -> Fft.irfft(in[0], n, dim), this); }
    /** This (B, C, L) causally convolved per channel with kernel (C, K): y[b,c,t] = Σ_j k[c,j] x[b,c,t−j] (FFT for long kernels). */
    public Tensor causalConv(Tensor kernel) { return Dispatch.run("causalConv", null, in -> FftConv.causalConv(in[0], in[1]), this, kernel); }

    // ---------------------------------------------------------------- linear algebra

    /** Matrix product with NumPy semantics: 1-d operands are promoted and squeezed, batch dims broadcast. */
    public Tensor matmul(Tensor other) {
        return Dispatch.run("matmul", null, in -> MatMul.matmul(in[0], in[1]), this, other);
    }

    /**
     * Writes this·other into {@code out} and returns it: out has the product's shape and may be a
     * strided view (a block of a bigger result, in any dim order) that must not overlap itself or
     * the operands. Saves the product's temporary where a caller would copy it into place: with the
     * product's dtype and rows of unit stride the GEMMs write out directly, otherwise the product is
     * made and copied in (converted, as by {@link #copyFromInPlace}). The values are
     * {@link #matmul}'s, bit for bit.
     */
    public Tensor matmulInto(Tensor other, Tensor out) {
        Dispatch.run("matmul_out", null, in -> MatMul.matmulInto(in[0], in[1], in[2]), this, other, out);
        return out;
    }

    /**
     * Adds this·other to {@code out} in place and returns it: out as for {@link #matmulInto}. Where
     * the GEMMs write out directly they add the product into it (no temporary, no second pass);
     * otherwise the product is made and added.
     */
    public Tensor matmulAddInto(Tensor other, Tensor out) {
        Dispatch.run("matmul_add_out", null, in -> MatMul.matmulAddInto(in[0], in[1], in[2]), this, other, out);
        return out;
    }
}

package dev.tessera.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * A flat buffer of elements of one {@link DType}.
 *
 * <p>Heap storage is a Java array ({@code float[]} for F32, {@code double[]} F64, {@code short[]}
 * BF16/F16 bits, {@code int[]} I32, {@code long[]} I64, {@code byte[]} BOOL) because the Vector
 * API loads fastest from arrays; {@link #segment()} views the same memory. Mapped storage (a
 * safetensors file) is a little-endian {@link MemorySegment} with no array; kernels read it
 * through the element accessors or copy it once. The version counter lets autograd detect
 * in-place writes to tensors it saved.
 *
 * <p>Device storage ({@link #onDevice}) holds a backend's {@link DeviceMemory} and no host memory:
 * every host accessor throws, naming the caller, so an op that is not dispatched through
 * {@link Dispatch} cannot read or write a device tensor's elements by accident.
 */
public final class Storage {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final DType dtype;
    private final int length;
    private final Object array;
    private final MemorySegment segment;
    private final DeviceMemory memory;
    private int version;

    private Storage(DType dtype, int length, Object array, MemorySegment segment) {
        this(dtype, length, array, segment, null);
    }

    private Storage(DType dtype, int length, Object array, MemorySegment segment, DeviceMemory memory) {
        this.dtype = dtype;
        this.length = length;
        this.array = array;
        this.segment = segment;
        this.memory = memory;
    }

    /** Storage on a backend's device: {@code length} elements of {@code dtype} in {@code memory}. */
    public static Storage onDevice(DType dtype, int length, DeviceMemory memory) {
        return new Storage(dtype, length, null, null, java.util.Objects.requireNonNull(memory, "memory"));
    }

    /** Where this storage's elements live. */
    public Device device() {
        return memory == null ? Device.CPU : memory.device();
    }

    /** The backend's memory of device storage, or {@code null} for host storage. */
    public DeviceMemory deviceMemory() {
        return memory;
    }

    private static String name(StackWalker.StackFrame f) {
        return f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName();
    }

    /** Throws for device storage: the named caller would read or write host memory that is not there. */
    private void requireHost() {
        if (memory != null) {
            String caller = StackWalker.getInstance().walk(frames -> {
                List<StackWalker.StackFrame> stack = frames.filter(f -> !f.getClassName().equals(Storage.class.getName())).limit(64).toList();
                String inner = stack.isEmpty() ? "?" : name(stack.getFirst());
                String outer = stack.stream().filter(f -> !f.getClassName().startsWith(Storage.class.getPackageName() + "."))
                        .findFirst().map(Storage::name).orElse(inner);
                return outer.equals(inner) ? inner : outer + " (through " + inner + ")";
            });
            throw new IllegalStateException(caller + ": reads " + device().label() + " memory on the host; this op is not dispatched"
                    + " to the " + device().label() + " backend (move the tensor with .to(Device.CPU) or dispatch the op)");
        }
    }

    /** Zero-filled heap storage. */
    public static Storage allocate(DType dtype, long length) {
        if (length < 0 || length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Storage.allocate: " + length + " elements of " + dtype
                    + " do not fit in one Java array (limit " + (Integer.MAX_VALUE - 8) + ")");
        }
        int n = (int) length;
        Object array = switch (dtype) {
            case F32 -> new float[n];
            case F64 -> new double[n];
            case BF16, F16 -> new short[n];
            case I32 -> new int[n];
            case I64 -> new long[n];
            case BOOL -> new byte[n];
        };
        return new Storage(dtype, n, array, null);
    }

    /** Wraps an existing array without copying; its element type must match {@code dtype}. */
    public static Storage wrap(DType dtype, Object array) {
        int n = switch (dtype) {
            case F32 -> ((float[]) array).length;
            case F64 -> ((double[]) array).length;
            case BF16, F16 -> ((short[]) array).length;
            case I32 -> ((int[]) array).length;
            case I64 -> ((long[]) array).length;
            case BOOL -> ((byte[]) array).length;
        };
        return new Storage(dtype, n, array, null);
    }

    /** Views little-endian bytes (e.g. a memory-mapped file region) as storage, without copying. */
    public static Storage ofSegment(DType dtype, MemorySegment bytes) {
        long n = bytes.byteSize() / dtype.byteSize();
        if (n * dtype.byteSize() != bytes.byteSize() || n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Storage.ofSegment: " + bytes.byteSize() + " bytes is not a whole number of "
                    + dtype + " elements below 2^31");
        }
        return new Storage(dtype, (int) n, null, bytes);
    }

    public DType dtype() {
        return dtype;
    }

    public int length() {
        return length;
    }

    /** The backing array, or {@code null} for segment storage. */
    public Object array() {
        requireHost();
        return array;
    }

    public float[] floats() {
        requireHost();
        return array instanceof float[] f ? f : null;
    }

    public double[] doubles() {
        requireHost();
        return array instanceof double[] d ? d : null;
    }

    public long[] longs() {
        requireHost();
        return array instanceof long[] l ? l : null;
    }

    /** The memory as a segment (for heap storage, a heap segment over the array). */
    public MemorySegment segment() {
        requireHost();
        if (segment != null) {
            return segment;
        }
        return switch (array) {
            case float[] f -> MemorySegment.ofArray(f);
            case double[] d -> MemorySegment.ofArray(d);
            case short[] s -> MemorySegment.ofArray(s);
            case int[] i -> MemorySegment.ofArray(i);
            case long[] l -> MemorySegment.ofArray(l);
            case byte[] b -> MemorySegment.ofArray(b);
            default -> throw new IllegalStateException("unreachable");
        };
    }

    /** The little-endian layout of one element as segment storage holds it ({@code JAVA_BYTE} for BOOL). */
    ValueLayout elementLayout() {
        return switch (dtype) {
            case F32 -> F32_LE;
            case F64 -> F64_LE;
            case BF16, F16 -> I16_LE;
            case I32 -> I32_LE;
            case I64 -> I64_LE;
            case BOOL -> ValueLayout.JAVA_BYTE;
        };
    }

    public int version() {
        return version;
    }

    /** Called by every in-place write. */
    public void bumpVersion() {
        version++;
    }

    /** Element {@code i} as a double (exact for every type but I64 beyond 2^53). */
    public double getDouble(int i) {
        if (array != null) {
            return switch (array) {
                case float[] f -> f[i];
                case double[] d -> d[i];
                case short[] s -> dtype == DType.BF16 ? HalfFloats.bf16ToFloat(s[i]) : HalfFloats.f16ToFloat(s[i]);
                case int[] v -> v[i];
                case long[] l -> l[i];
                case byte[] b -> b[i];
                default -> throw new IllegalStateException("unreachable");
            };
        }
        requireHost();
        long at = (long) i * dtype.byteSize();
        return switch (dtype) {
            case F32 -> segment.get(F32_LE, at);
            case F64 -> segment.get(F64_LE, at);
            case BF16 -> HalfFloats.bf16ToFloat(segment.get(I16_LE, at));
            case F16 -> HalfFloats.f16ToFloat(segment.get(I16_LE, at));
            case I32 -> segment.get(I32_LE, at);
            case I64 -> segment.get(I64_LE, at);
            case BOOL -> segment.get(ValueLayout.JAVA_BYTE, at) != 0 ? 1 : 0;
        };
    }

    /** Element {@code i} as a float (halves widen exactly; integers round once, to nearest even). */
    public float getFloat(int i) {
        if (array instanceof float[] f) {
            return f[i];
        }
        if (dtype == DType.I64) {
            return (float) getLong(i); // (float) of the double would round twice
        }
        return (float) getDouble(i);
    }

    /** Element {@code i} as a long (floats truncate toward zero, as a cast does). */
    public long getLong(int i) {
        if (array instanceof long[] l) {
            return l[i];
        }
        if (array instanceof int[] v) {
            return v[i];
        }
        requireHost();
        if (dtype == DType.I64) {
            return segment.get(I64_LE, (long) i * 8);
        }
        return (long) getDouble(i);
    }

    /** Stores {@code v} rounded to this storage's type (nearest-even for floats, truncation for ints). */
    public void setDouble(int i, double v) {
        if (array != null) {
            switch (array) {
                case float[] f -> f[i] = (float) v;
                case double[] d -> d[i] = v;
                case short[] s -> s[i] = dtype == DType.BF16 ? HalfFloats.doubleToBf16(v) : HalfFloats.doubleToF16(v);
                case int[] a -> a[i] = (int) (long) v;
                case long[] l -> l[i] = (long) v;
                case byte[] b -> b[i] = (byte) (v != 0 ? 1 : 0);
                default -> throw new IllegalStateException("unreachable");
            }
            return;
        }
        requireHost();
        long at = (long) i * dtype.byteSize();
        switch (dtype) {
            case F32 -> segment.set(F32_LE, at, (float) v);
            case F64 -> segment.set(F64_LE, at, v);
            case BF16 -> segment.set(I16_LE, at, HalfFloats.doubleToBf16(v));
            case F16 -> segment.set(I16_LE, at, HalfFloats.doubleToF16(v));
            case I32 -> segment.set(I32_LE, at, (int) (long) v);
            case I64 -> segment.set(I64_LE, at, (long) v);
            case BOOL -> segment.set(ValueLayout.JAVA_BYTE, at, (byte) (v != 0 ? 1 : 0));
        }
    }

    /**
     * Stores an integer: exactly where the type can hold it (I32 wraps, as a cast does), otherwise
     * rounded once to the nearest float, double or half (ties to even) straight from the long.
     */
    public void setLong(int i, long v) {
        if (array instanceof long[] l) {
            l[i] = v;
        } else if (array instanceof int[] a) {
            a[i] = (int) v;
        } else if (array == null && dtype == DType.I64) {
            requireHost();
            segment.set(I64_LE, (long) i * 8, v);
        } else {
            switch (dtype) {
                case F32 -> setFloat(i, v);
                case BF16 -> setBits(i, HalfFloats.longToBf16(v));
                case F16 -> setBits(i, HalfFloats.longToF16(v));
                default -> setDouble(i, v); // F64 (one rounding), I32 segments and BOOL
            }
        }
    }

    private void setFloat(int i, float v) {
        if (array instanceof float[] f) {
            f[i] = v;
        } else {
            requireHost();
            segment.set(F32_LE, (long) i * 4, v);
        }
    }

    private void setBits(int i, short bits) {
        if (array instanceof short[] s) {
            s[i] = bits;
        } else {
            requireHost();
            segment.set(I16_LE, (long) i * 2, bits);
        }
    }
}

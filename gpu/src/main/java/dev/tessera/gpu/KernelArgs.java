package dev.tessera.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the {@code void** kernelParams} array cuLaunchKernel takes: one pointer per kernel
 * parameter, each pointing at that parameter's value. Parameter types follow the kernels'
 * convention: device pointers and {@code long long} are 8 bytes, {@code float} and {@code int} 4,
 * and a {@code struct { long long v[N]; }} passed by value (shapes and strides) is N*8 bytes. The
 * packing is plain memory work, so it is tested without a GPU.
 */
public final class KernelArgs {
    private sealed interface Arg permits Ptr, I64, I32, F32, Longs {}
    private record Ptr(long value) implements Arg {}
    private record I64(long value) implements Arg {}
    private record I32(int value) implements Arg {}
    private record F32(float value) implements Arg {}
    private record Longs(long[] values) implements Arg {}

    private final List<Arg> args = new ArrayList<>();

    public KernelArgs ptr(long devicePtr) {
        args.add(new Ptr(devicePtr));
        return this;
    }

    public KernelArgs ptr(DeviceTensor t) {
        return ptr(t == null ? 0L : t.pointer());
    }

    public KernelArgs i64(long v) {
        args.add(new I64(v));
        return this;
    }

    public KernelArgs i32(int v) {
        args.add(new I32(v));
        return this;
    }

    public KernelArgs f32(float v) {
        args.add(new F32(v));
        return this;
    }

    public KernelArgs f32(double v) {
        return f32((float) v);
    }

    /** A by-value struct of {@code long long} fields (e.g. {@code struct Dims { long long v[25]; }}). */
    public KernelArgs longs(long... v) {
        args.add(new Longs(v.clone()));
        return this;
    }

    public int size() {
        return args.size();
    }

    /** The {@code void*[]} for cuLaunchKernel, with every value allocated in {@code arena}. */
    public MemorySegment pack(Arena arena) {
        MemorySegment params = arena.allocate(ValueLayout.ADDRESS, Math.max(1, args.size()));
        for (int i = 0; i < args.size(); i++) {
            MemorySegment value = switch (args.get(i)) {
                case Ptr p -> arena.allocateFrom(ValueLayout.JAVA_LONG, p.value());
                case I64 p -> arena.allocateFrom(ValueLayout.JAVA_LONG, p.value());
                case I32 p -> arena.allocateFrom(ValueLayout.JAVA_INT, p.value());
                case F32 p -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, p.value());
                case Longs p -> arena.allocateFrom(ValueLayout.JAVA_LONG, p.values().length == 0 ? new long[1] : p.values());
            };
            params.setAtIndex(ValueLayout.ADDRESS, i, value);
        }
        return params;
    }
}

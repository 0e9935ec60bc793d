package dev.tessera.gpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * One native function bound lazily: the downcall handle is created on first use, so a library that
 * lacks a rarely used symbol (or a machine with no GPU at all) only fails when that symbol is called.
 * Several names may be given for versioned symbols ({@code cuMemAlloc_v2}, then {@code cuMemAlloc});
 * the first one present wins and {@link #name()} reports it for error messages.
 */
final class NativeFunction {
    private final SymbolLookup lookup;
    private final FunctionDescriptor descriptor;
    private final String[] names;
    private volatile MethodHandle handle;
    private volatile String boundName;

    NativeFunction(SymbolLookup lookup, FunctionDescriptor descriptor, String... names) {
        this.lookup = lookup;
        this.descriptor = descriptor;
        this.names = names.clone();
    }

    /** The bound handle; throws {@link UnsatisfiedLinkError} naming every symbol tried if none exists. */
    MethodHandle handle() {
        MethodHandle h = handle;
        if (h == null) {
            synchronized (this) {
                if (handle == null) {
                    for (String n : names) {
                        Optional<MemorySegment> sym = lookup.find(n);
                        if (sym.isPresent()) {
                            boundName = n;
                            handle = Linker.nativeLinker().downcallHandle(sym.get(), descriptor);
                            break;
                        }
                    }
                    if (handle == null) {
                        throw new UnsatisfiedLinkError("cuda: symbol " + String.join(" / ", names) + " not found");
                    }
                }
                h = handle;
            }
        }
        return h;
    }

    /** Whether any of the names resolves (without binding). */
    boolean present() {
        for (String n : names) {
            if (lookup.find(n).isPresent()) {
                return true;
            }
        }
        return false;
    }

    /** The symbol actually bound, or the first candidate before binding. */
    String name() {
        String b = boundName;
        return b != null ? b : names[0];
    }
}

/**
 * Tessera's CUDA backend: driver API, NVRTC and cuBLAS bindings through {@code java.lang.foreign},
 * the {@code .cu} kernel sources (resources read by this module only), the device allocator and
 * streams.
 *
 * <p>The bindings make downcalls, which the JVM allows without a warning only to modules named by
 * {@code --enable-native-access}: {@code --enable-native-access=dev.tessera.gpu} on the module
 * path, {@code --enable-native-access=ALL-UNNAMED} on the class path.
 */
module dev.tessera.gpu {
    requires transitive dev.tessera.tensor;

    exports dev.tessera.gpu;

    provides dev.tessera.tensor.Backend with dev.tessera.gpu.CudaTensorBackend;
}

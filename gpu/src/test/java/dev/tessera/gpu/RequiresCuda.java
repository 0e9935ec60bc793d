package dev.tessera.gpu;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test (class or method) that needs a working CUDA device. Without one the test is disabled
 * with the reason "CUDA not available: ..." (printed once per JVM), so the suite passes on machines
 * without a GPU. Also tags the test {@code gpu}.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("gpu")
@ExtendWith(CudaCondition.class)
public @interface RequiresCuda {}

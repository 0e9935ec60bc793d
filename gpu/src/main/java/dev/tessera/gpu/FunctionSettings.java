package dev.tessera.gpu;

import java.lang.reflect.Field;

/**
 * Reads the settings of an op's attributes object (a custom function's ε, an optimizer's state)
 * for a CUDA kernel. The gpu module may import only {@code tensor}, so the classes that carry
 * these settings ({@code nn}'s functions and optimizers) are reached reflectively: public methods
 * always, private fields where their package is open to this module (always on the class path;
 * on the module path with {@code --add-opens dev.tessera.nn/<package>=dev.tessera.gpu}).
 */
final class FunctionSettings {
    private FunctionSettings() {}

    /** Field {@code name} of {@code owner} (declared by its class or a superclass), or a one-line error naming the op. */
    static Object field(String op, Object owner, String name) {
        for (Class<?> c = owner.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(owner);
            } catch (NoSuchFieldException e) {
                // try the superclass
            } catch (IllegalAccessException | RuntimeException e) {
                throw unreadable(op, owner, name, e);
            }
        }
        throw unreadable(op, owner, name, new NoSuchFieldException(name));
    }

    /** The result of {@code owner}'s public no-argument method {@code name}, or a one-line error naming the op. */
    static Object call(String op, Object owner, String name) {
        try {
            return owner.getClass().getMethod(name).invoke(owner);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw unreadable(op, owner, name + "()", e);
        }
    }

    private static UnsupportedOperationException unreadable(String op, Object owner, String what, Exception e) {
        return new UnsupportedOperationException(op + ": the cuda kernel cannot read " + owner.getClass().getSimpleName() + "." + what
                + " (" + e.getClass().getSimpleName() + "; on the module path open its package to dev.tessera.gpu)");
    }
}

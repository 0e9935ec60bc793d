package dev.tessera.nn.attention;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * An attention kind's own options, as one small record per kind (e.g. {@link SlidingWindowAttention.Options})
 * validated in its constructor, and bound here by name from what a user wrote: {@code --attention-option
 * window=64} on the command line, or the {@code tessera.attention_options} object of config.json. One
 * binder for every kind, so a new kind only declares its record: names, types and errors come from it.
 * Components may be int, long, double, boolean, String or an enum; a component {@code spanLoss} is
 * the option {@code span_loss}, as config.json's other fields are written.
 */
public final class KernelOptions {
    private KernelOptions() {}

    /** The options of a kind that has none. */
    public record None() { }

    /**
     * Builds {@code type} from {@code given} values (strings, numbers or booleans) over {@code defaults};
     * a name that is not a component, a missing value or an unparsable one is a one-line error naming
     * {@code owner} and the valid names.
     */
    public static <R extends Record> R bind(String owner, Class<R> type, Map<String, String> defaults, Map<String, ?> given) {
        RecordComponent[] components = type.getRecordComponents();
        String valid = names(type);
        for (String name : given.keySet()) {
            if (Arrays.stream(components).noneMatch(c -> optionName(c).equals(name))) {
                throw new IllegalArgumentException(owner + (components.length == 0 ? " takes no options, got '" + name + "'"
                        : ": unknown option '" + name + "' (options: " + valid + ")"));
            }
        }
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            String name = optionName(components[i]);
            types[i] = components[i].getType();
            Object raw = given.containsKey(name) ? given.get(name) : defaults.get(name);
            if (raw == null) {
                throw new IllegalArgumentException(owner + " needs option " + name + " (options: " + valid + ")");
            }
            values[i] = parse(owner, name, types[i], String.valueOf(raw));
        }
        try {
            return type.getDeclaredConstructor(types).newInstance(values);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(owner + ": options record " + type.getName() + " has no public canonical constructor", e);
        }
    }

    /** The option names of {@code type}, comma separated, or "none". */
    public static String names(Class<? extends Record> type) {
        String names = Arrays.stream(type.getRecordComponents()).map(KernelOptions::optionName).collect(Collectors.joining(", "));
        return names.isEmpty() ? "none" : names;
    }

    /** Name → value of each option, in declaration order, as config.json stores them (enums by lower-case name). */
    public static Map<String, Object> values(Record options) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (RecordComponent c : options.getClass().getRecordComponents()) {
            try {
                Object v = c.getAccessor().invoke(options);
                out.put(optionName(c), v instanceof Enum<?> e ? e.name().toLowerCase(Locale.ROOT) : v);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("options record " + options.getClass().getName() + " is not readable", e);
            }
        }
        return out;
    }

    /** The option's name: the component's, camelCase written snake_case. */
    static String optionName(RecordComponent c) {
        return c.getName().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    private static Object parse(String owner, String name, Class<?> type, String text) {
        try {
            if (type == int.class) return Integer.parseInt(text.trim());
            if (type == long.class) return Long.parseLong(text.trim());
            if (type == double.class) return Double.parseDouble(text.trim());
            if (type == String.class) return text;
            if (type == boolean.class) {
                if (!text.equalsIgnoreCase("true") && !text.equalsIgnoreCase("false")) {
                    throw new IllegalArgumentException();
                }
                return Boolean.parseBoolean(text);
            }
            if (type.isEnum()) {
                for (Object constant : type.getEnumConstants()) {
                    if (((Enum<?>) constant).name().equalsIgnoreCase(text.trim())) {
                        return constant;
                    }
                }
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            String expected = type.isEnum() ? "one of " + Arrays.stream(type.getEnumConstants())
                    .map(x -> ((Enum<?>) x).name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "))
                    : type == boolean.class ? "true or false" : type == double.class ? "a number" : "an integer";
            throw new IllegalArgumentException(owner + ": option " + name + " must be " + expected + ", got '" + text + "'");
        }
        throw new IllegalStateException(owner + ": option " + name + " has unsupported type " + type.getName());
    }
}

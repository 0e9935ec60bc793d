package dev.tessera.models.cli;

import dev.tessera.nn.Catalog;
import dev.tessera.nn.Catalog.Component;
import dev.tessera.nn.Catalog.State;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tessera components}: the component catalog ({@link Catalog}), one aligned line per ID —
 * ID, state, name, how to switch it on, and the state's note if any. {@code --markdown} prints the
 * README's status table instead, which is how that table is regenerated.
 */
@Command(name = "components", mixinStandardHelpOptions = true,
        description = "List the components of COMPONENTS.md: ID, state, name and how to switch each on.")
final class ComponentsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--state", description = "Only components in this state: done, partial or not-started.")
    String state;

    @Option(names = "--id", description = "Only this component, e.g. B11.")
    String id;

    @Option(names = "--markdown", description = "Print the README's status table (| ID | component | state |) instead.")
    boolean markdown;

    @Override
    public Integer call() {
        List<Component> selected = new ArrayList<>();
        State wanted = state == null ? null : parseState(state);
        for (Component c : id == null ? Catalog.all() : List.of(component(id))) {
            if (wanted == null || c.state() == wanted) {
                selected.add(c);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (markdown) {
            out.println(MARKDOWN_HEADER);
            selected.forEach(c -> out.println(c.markdownRow()));
        } else {
            lines(selected).forEach(out::println);
        }
        out.flush();
        return 0;
    }

    /** The README table's two header lines. */
    static final String MARKDOWN_HEADER = "| ID | component | state |\n|---|---|---|";

    /** One line per component, columns aligned over {@code components}; "-" where nothing switches it on yet. */
    static List<String> lines(List<Component> components) {
        int nameWidth = components.stream().mapToInt(c -> c.name().length()).max().orElse(0);
        int stateWidth = State.NOT_STARTED.label().length();
        List<String> out = new ArrayList<>();
        for (Component c : components) {
            String line = String.format("%-4s %-" + stateWidth + "s  %-" + nameWidth + "s  %s%s", c.id(), c.state().label(), c.name(),
                    c.configSwitch() == null ? "-" : c.configSwitch(), c.note().isEmpty() ? "" : "  (" + c.note() + ")");
            out.add(line.stripTrailing());
        }
        return out;
    }

    private static State parseState(String text) {
        try {
            return State.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("components: unknown --state '" + text + "' (expected done, partial or not-started)");
        }
    }

    private static Component component(String text) {
        try {
            return Catalog.get(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replaceFirst("^Catalog: ", "components: "));
        }
    }
}

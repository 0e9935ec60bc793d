package dev.tessera.models.cli;

import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tessera} command line. Each subcommand is its own class. */
@Command(name = "tessera", mixinStandardHelpOptions = true, version = "tessera 0.1.0",
        description = "A pure-Java tensor and autograd framework: train and run language models on the JVM.",
        subcommands = {InfoCommand.class, TrainCommand.class, EvalCommand.class, SampleCommand.class, GenerateCommand.class,
                TokenizerCommand.class, BenchCommand.class, ComponentsCommand.class, InspectCommand.class, CommandLine.HelpCommand.class})
public final class Tessera implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** No command: the usage, on stderr with status 2, as for any other usage error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; bad input prints one line and exits with status 2. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Tessera());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            line.getErr().println("tessera: " + describe(ex));
            return ex instanceof IllegalArgumentException ? 2 : 1;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("tessera: " + ex.getMessage() + " (see --help)");
            return 2;
        });
        return cl;
    }

    /** One line for an error; the JDK's file errors carry only the path, so they get the reason in front. */
    static String describe(Throwable ex) {
        Throwable e = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        return switch (e) {
            case NoSuchFileException f -> "no such file: " + f.getMessage();
            case AccessDeniedException f -> "permission denied: " + f.getMessage();
            case FileAlreadyExistsException f -> "already exists: " + f.getMessage();
            default -> e.getMessage() == null ? e.toString() : e.getMessage();
        };
    }
}

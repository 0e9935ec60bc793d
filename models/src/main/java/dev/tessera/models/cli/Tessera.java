package dev.tessera.models.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tessera} command line. Each subcommand is its own class. */
@Command(name = "tessera", mixinStandardHelpOptions = true, version = "tessera 0.1.0",
        description = "A pure-Java tensor and autograd framework: train and run language models on the JVM.",
        subcommands = {InfoCommand.class, TrainCommand.class, EvalCommand.class, SampleCommand.class, GenerateCommand.class,
                TokenizerCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Tessera implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; bad input prints one line and exits with status 2. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Tessera());
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            line.getErr().println("tessera: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            return ex instanceof IllegalArgumentException ? 2 : 1;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("tessera: " + ex.getMessage() + " (see --help)");
            return 2;
        });
        return cl;
    }
}

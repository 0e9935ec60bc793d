/**
 * Tessera models: whole models (Llama, GPT-2, ...), tokenizers, data loading, checkpoints,
 * Hugging Face import, generation, training and the {@code tessera} CLI.
 *
 * <p>Jackson binds the training configuration and component option records by reflection, and
 * picocli fills the CLI's command objects by reflection: those packages are opened to them alone.
 */
module dev.tessera.models {
    requires transitive dev.tessera.nn;
    requires dev.tessera.gpu; // the info command reports the CUDA libraries
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires org.knowm.xchart;
    requires java.desktop; // LossPlot writes PNGs through java.awt.image
    requires jdk.management; // BenchCommand reads the allocated bytes (com.sun.management, and java.management transitively)

    exports dev.tessera.models;
    exports dev.tessera.models.cli;
    exports dev.tessera.models.data;
    exports dev.tessera.models.generate;
    exports dev.tessera.models.hf;
    exports dev.tessera.models.tokenizer;
    exports dev.tessera.models.train;

    opens dev.tessera.models to com.fasterxml.jackson.databind;
    opens dev.tessera.models.train to com.fasterxml.jackson.databind;
    opens dev.tessera.models.cli to info.picocli;
}

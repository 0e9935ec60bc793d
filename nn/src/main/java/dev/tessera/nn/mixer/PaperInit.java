package dev.tessera.nn.mixer;

import dev.tessera.tensor.Generator;

/**
 * A mixer whose paper prescribes an initialisation the models' generic one (normal weights, zero
 * biases) would undo, e.g. gMLP's spatial gate starting as the identity (W ≈ 0, b = 1): the models
 * call {@link #initialiseAsPaper} after their own initialisation.
 */
public interface PaperInit {
    void initialiseAsPaper(Generator g);
}

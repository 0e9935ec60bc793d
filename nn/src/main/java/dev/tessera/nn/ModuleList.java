package dev.tessera.nn;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/** An indexed list of submodules named 0, 1, 2, ... (as torch.nn.ModuleList, so names match checkpoints). */
public final class ModuleList<M extends Module> extends Module implements Iterable<M> {
    private final List<M> items = new ArrayList<>();

    public ModuleList<M> add(M module) {
        child(Integer.toString(items.size()), module);
        items.add(module);
        return this;
    }

    public M get(int i) {
        return items.get(i);
    }

    public int size() {
        return items.size();
    }

    @Override
    public Iterator<M> iterator() {
        return items.iterator();
    }
}

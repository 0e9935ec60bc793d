package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReader;
import java.lang.module.ModuleReference;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The published jars are named modules whose exports are exactly their API: every package that
 * holds classes is exported unless a segment of its name is {@code internal}. A component package
 * added without its {@code exports} line would compile inside the build (tests run on the class
 * path) yet be invisible to an application on the module path; this test names it instead.
 */
class ModuleDescriptorsTest {
    private static final Set<String> MODULES = Set.of(
            "dev.tessera.tensor", "dev.tessera.autograd", "dev.tessera.nn", "dev.tessera.gpu", "dev.tessera.models");

    @Test
    void everyModuleExportsExactlyItsNonInternalPackages() throws IOException {
        TreeMap<String, ModuleReference> found = tesseraModules();
        assertEquals(new TreeSet<>(MODULES), found.navigableKeySet(), "module descriptors on the test class path");
        for (ModuleReference ref : found.values()) {
            ModuleDescriptor d = ref.descriptor();
            Set<String> classPackages = classPackages(ref);
            Set<String> expected = classPackages.stream()
                    .filter(p -> !Set.of(p.split("\\.")).contains("internal"))
                    .collect(Collectors.toCollection(TreeSet::new));
            Set<String> exported = d.exports().stream()
                    .filter(e -> !e.isQualified())
                    .map(ModuleDescriptor.Exports::source)
                    .collect(Collectors.toCollection(TreeSet::new));
            TreeSet<String> missing = new TreeSet<>(expected);
            missing.removeAll(exported);
            TreeSet<String> extra = new TreeSet<>(exported);
            extra.removeAll(expected);
            assertEquals(Set.of(), missing, d.name() + ": these packages need an 'exports' line in its module-info.java");
            assertEquals(Set.of(), extra, d.name() + ": module-info.java exports internal or class-less packages");
        }
    }

    @Test
    void internalsStayUnexported() throws IOException {
        ModuleDescriptor nn = tesseraModules().get("dev.tessera.nn").descriptor();
        assertTrue(nn.packages().contains("dev.tessera.nn.internal"), "nn holds dev.tessera.nn.internal");
        assertTrue(nn.exports().stream().noneMatch(e -> e.source().equals("dev.tessera.nn.internal")),
                "dev.tessera.nn.internal must stay unexported");
    }

    @Test
    void vectorApiComesWithTheTensorModule() throws IOException {
        // on the module path an application then needs no --add-modules jdk.incubator.vector
        ModuleDescriptor tensor = tesseraModules().get("dev.tessera.tensor").descriptor();
        assertTrue(tensor.requires().stream().anyMatch(r -> r.name().equals("jdk.incubator.vector")
                && r.modifiers().contains(ModuleDescriptor.Requires.Modifier.TRANSITIVE)), tensor.toString());
    }

    /** Each Tessera module on the class path (a classes directory or a jar), found by its module-info.class. */
    private static TreeMap<String, ModuleReference> tesseraModules() throws IOException {
        TreeMap<String, ModuleReference> found = new TreeMap<>();
        for (URL url : Collections.list(ModuleDescriptorsTest.class.getClassLoader().getResources("module-info.class"))) {
            Path root = rootOf(url);
            for (ModuleReference ref : ModuleFinder.of(root).findAll()) {
                if (MODULES.contains(ref.descriptor().name())) {
                    found.put(ref.descriptor().name(), ref);
                }
            }
        }
        return found;
    }

    private static Path rootOf(URL moduleInfo) throws IOException {
        try {
            if (moduleInfo.getProtocol().equals("jar")) {
                return Path.of(((JarURLConnection) moduleInfo.openConnection()).getJarFileURL().toURI());
            }
            return Path.of(moduleInfo.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IOException("ModuleDescriptorsTest: bad class path URL " + moduleInfo, e);
        }
    }

    /** The packages holding at least one class (resource-only directories such as gpu's kernels are not API). */
    private static Set<String> classPackages(ModuleReference ref) {
        try (ModuleReader reader = ref.open()) {
            return reader.list()
                    .filter(n -> n.endsWith(".class") && !n.equals("module-info.class") && n.contains("/"))
                    .map(n -> n.substring(0, n.lastIndexOf('/')).replace('/', '.'))
                    .collect(Collectors.toCollection(TreeSet::new));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package io.colo4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages of the tensor module form the layers ARCHITECTURE.md draws, each using only the layers
 * below it: core (with autograd, which records on tensors and is part of what a tensor is) <- comm <- nn
 * <- colo. A dependency pointing up is reported with the file that has it; since every dependency points
 * down, there is no package cycle. Read from the sources: an import, a static import or a fully
 * qualified name (Javadoc included: a lower layer does not name a higher one).
 */
class PackageLayersTest {
    private static final String ROOT = "io.colo4j.tensor";
    private static final Map<String, Integer> LAYER = Map.of(
            ROOT, 0,
            ROOT + ".autograd", 0,
            ROOT + ".profile", 0,
            ROOT + ".comm", 1,
            ROOT + ".nn", 2,
            ROOT + ".colo", 3);
    /** A reference to a type of this module: the lower-case package segments, then a type name. */
    private static final Pattern REFERENCE = Pattern.compile("\\bio\\.colo4j\\.tensor((?:\\.[a-z_][a-z0-9_]*)*)(?:\\.[A-Z*])");
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);

    private record Source(Path file, String pkg, String text) {}

    @Test
    void everyPackageHasALayer() {
        TreeSet<String> unknown = new TreeSet<>();
        for (Source s : sources()) {
            if (!LAYER.containsKey(s.pkg())) {
                unknown.add(s.pkg() + " (" + s.file().getFileName() + ")");
            }
        }
        assertThat(unknown).as("packages missing from the layer list here and in ARCHITECTURE.md").isEmpty();
    }

    @Test
    void dependenciesPointDownTheLayersSoNoPackageCycle() {
        assertThat(upwardDependencies(sources())).as("dependencies on a higher layer (or a cycle)").isEmpty();
    }

    /** The check above can fail: a core class naming colo, and nn naming colo, are both reported. */
    @Test
    void anUpwardDependencyIsReported() {
        List<Source> broken = List.of(
                new Source(Path.of("Tensor.java"), ROOT, "package io.colo4j.tensor;\nimport io.colo4j.tensor.colo.DistState;\n"),
                new Source(Path.of("Module.java"), ROOT + ".nn",
                        "package io.colo4j.tensor.nn;\n/** see {@link io.colo4j.tensor.colo.InitContext#current()} */\n"),
                new Source(Path.of("Redistributor.java"), ROOT + ".colo", "import static io.colo4j.tensor.autograd.Autograd.record;\n"));
        assertThat(upwardDependencies(broken)).containsExactly(
                "Tensor.java: io.colo4j.tensor -> io.colo4j.tensor.colo",
                "Module.java: io.colo4j.tensor.nn -> io.colo4j.tensor.colo");
    }

    private static List<String> upwardDependencies(List<Source> sources) {
        List<String> up = new ArrayList<>();
        for (Source s : sources) {
            Integer from = LAYER.get(s.pkg());
            Matcher m = REFERENCE.matcher(s.text());
            TreeSet<String> targets = new TreeSet<>();
            while (m.find()) {
                targets.add(ROOT + m.group(1));
            }
            for (String target : targets) {
                Integer to = LAYER.get(target);
                if (from != null && to != null && to > from) {
                    up.add(s.file().getFileName() + ": " + s.pkg() + " -> " + target);
                }
            }
        }
        return up;
    }

    /** Every main source file of this module (tests run in the module's directory). */
    private static List<Source> sources() {
        Path root = Path.of("src/main/java/io/colo4j/tensor");
        assertThat(root).isDirectory();
        try (Stream<Path> files = Files.walk(root)) {
            List<Source> out = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                String text = Files.readString(f);
                Matcher pkg = PACKAGE.matcher(text);
                assertThat(pkg.find()).as("package declaration in %s", f).isTrue();
                out.add(new Source(f, pkg.group(1), text));
            }
            assertThat(out).hasSizeGreaterThan(40);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

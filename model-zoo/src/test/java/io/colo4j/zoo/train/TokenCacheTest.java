package io.colo4j.zoo.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.tensor.IntTensor;
import io.colo4j.zoo.tokenizer.ByteLevelBpe;
import io.colo4j.zoo.tokenizer.ByteTokenizer;
import io.colo4j.zoo.tokenizer.Gpt2Tokenizer;
import io.colo4j.zoo.tokenizer.Tokenizer;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data file is tokenised in pieces into a memory-mapped token cache: the same ids, checksum and batches as the
 * whole text encoded at once (the old in-memory path), for every tokenizer and cut size; a file whose ids cannot
 * fit the cache's disk is refused before anything is written, and a file larger than the heap trains.
 */
class TokenCacheTest {
    @TempDir
    static Path dir;

    private static String text;
    private static Path file;

    @BeforeAll
    static void corpus() throws Exception {
        // the bundled corpus, plus characters that straddle a cut: multi-byte UTF-8, surrogate pairs, special tokens
        StringBuilder sb = new StringBuilder(TokenData.bundledText());
        for (int i = 0; i < 300; i++) {
            sb.append("naïve café 😀🚀 a b<|endoftext|>word a bword ").append(i).append(i % 7 == 0 ? "\n\n" : " ");
        }
        text = sb.toString();
        file = dir.resolve("data.txt");
        Files.writeString(file, text);
    }

    /** A byte-level BPE with a merge and special tokens, one of them holding a space between two letters ("a b"). */
    private static ByteLevelBpe smallBpe() {
        Map<String, Integer> vocab = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(ByteLevelBpe.byteToChar(b)), b);
        }
        vocab.put("th", 256);
        vocab.put("the", 257);
        List<String[]> merges = new ArrayList<>(List.of(new String[] {"t", "h"}, new String[] {"th", "e"}));
        return new ByteLevelBpe("small", vocab, merges, Map.of("<|endoftext|>", 300, "a b", 301));
    }

    private static int[] ids(MemorySegment cache) {
        return cache.toArray(ValueLayout.JAVA_INT);
    }

    @Test
    void piecesGiveTheIdsOfTheWholeText() throws Exception {
        for (Tokenizer tok : List.of(ByteTokenizer.INSTANCE, Gpt2Tokenizer.instance(), smallBpe())) {
            int[] whole = tok.encode(text);
            for (int piece : new int[] {7, 1000, 4099, TokenCache.PIECE_CHARS}) {
                assertThat(ids(TokenCache.tokenize(file, "data file", tok, piece, 1 << 20, dir)))
                        .as("%s cut every %d characters", tok.spec(), piece).isEqualTo(whole);
            }
        }
    }

    @Test
    void theCachedStreamDrawsTheBatchesOfTheInMemoryOne() throws Exception {
        Tokenizer tok = Gpt2Tokenizer.instance();
        TokenData streamed = TokenData.fromFile(file, tok);
        TokenData inMemory = new TokenData(tok.encode(text), "memory");
        assertThat(streamed.size()).isEqualTo(inMemory.size());
        assertThat(streamed.checksum()).isEqualTo(inMemory.checksum());
        assertThat(streamed.maxId()).isEqualTo(inMemory.maxId());
        for (long step = 0; step < 20; step++) {
            IntTensor[] a = streamed.batch(7, step, 4, 32);
            IntTensor[] b = inMemory.batch(7, step, 4, 32);
            for (int i = 0; i < 2; i++) {
                assertThat(a[i].data()).isEqualTo(b[i].data());
            }
        }
        assertThat(Files.list(dir).map(Path::getFileName).map(Path::toString)).noneMatch(n -> n.startsWith("colo4j-tokens-"));
    }

    @Test
    void aTextWithNoPlaceToCutIsRefusedNamingTheFile() throws Exception {
        Path solid = dir.resolve("solid.txt");
        Files.writeString(solid, "x".repeat(5000));
        assertThatThrownBy(() -> TokenCache.tokenize(solid, "data file", Gpt2Tokenizer.instance(), 100, 1000, dir))
                .hasMessageStartingWith(solid + ": the data file has no place the gpt2 tokenizer can cut in ");
        assertThat(ids(TokenCache.tokenize(solid, "data file", ByteTokenizer.INSTANCE, 100, 1000, dir))).hasSize(5000);
    }

    @Test
    void aFileWhoseIdsCannotFitTheCacheDiskIsRefusedBeforeItIsRead() throws Exception {
        Path big = dir.resolve("big.txt");
        long free = Files.getFileStore(dir).getUsableSpace();
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(free / 2); // sparse: no disk, but its ids would take twice the free space
        }
        assertThatThrownBy(() -> TokenData.fromFile(big, ByteTokenizer.INSTANCE))
                .hasMessageStartingWith(big + ": the data file is ")
                .hasMessageContaining("(4 bytes per byte of text) in the token cache folder ")
                .hasMessageContaining(" free (point -Dcolo4j.token.cache=DIR");
    }

    /** Run in a JVM whose heap is smaller than the file: prints the id count and checksum. */
    public static void main(String[] args) throws Exception {
        TokenData data = TokenData.fromFile(Path.of(args[0]), ByteTokenizer.INSTANCE);
        IntTensor[] batch = data.batch(1, 3, 2, 16);
        System.out.println(data.size() + " " + data.checksum() + " " + batch[0].data().length);
    }

    @Test
    void aFileLargerThanTheHeapIsTokenisedInBoundedHeap() throws Exception {
        Path large = dir.resolve("large.txt");
        byte[] line = "the quick brown fox jumps over the lazy dog\n".getBytes(StandardCharsets.UTF_8);
        long bytes = 0;
        try (var out = Files.newOutputStream(large)) {
            while (bytes < 96L << 20) {
                out.write(line);
                bytes += line.length;
            }
        }
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx48m",
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), TokenCacheTest.class.getName(), large.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output.lines().filter(l -> !l.startsWith("WARNING")).toList().getLast()).startsWith(bytes + " ");
    }
}

package io.colo4j.zoo.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.colo4j.zoo.train.TokenData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
    private static final List<String> SAMPLES = List.of(
            "Hello world",
            "Hello world!  It's  a test... don't we'll they've I'm you'd she's",
            "  leading and trailing spaces   \n\n  and\ttabs\t\t",
            "numbers 12345 3.14159 and 1,000,000 and -42",
            "Ünïcödé: naïve café, Straße, 日本語のテキスト, Ελληνικά, русский текст",
            "emoji 😀🚀👍🏽 and symbols ©®™ — “quotes” ‘single’ … ∑∫√",
            "code: for (int i = 0; i < n; i++) { sum += a[i] * b[i]; } // done",
            "MixedCASE wordsWithCaps and ALLCAPS and snake_case_names",
            "\u00a0non-breaking\u2003em-space\u3000ideographic space",
            "line one\r\nline two\rline three\n\n\n",
            "text with <|endoftext|> in the middle <|endoftext|>");

    private static Gpt2FilesFromJtokkit.Files2 files;
    private static String corpus;

    @BeforeAll
    static void buildGpt2Files() throws IOException {
        files = Gpt2FilesFromJtokkit.build();
        corpus = TokenData.bundledText();
    }

    @Test
    void byteTokenizerRoundTripsUtf8() {
        Tokenizer t = ByteTokenizer.INSTANCE;
        assertThat(t.encode("Hi é")).containsExactly(72, 105, 32, 0xC3, 0xA9);
        for (String s : SAMPLES) {
            assertThat(t.decode(t.encode(s))).isEqualTo(s);
        }
        assertThat(t.vocabSize()).isEqualTo(256);
        assertThatThrownBy(() -> t.decode(new int[] {300})).isInstanceOf(TokenizerException.class).hasMessageContaining("300");
    }

    @Test
    void builtInGpt2MatchesGpt2Ids() {
        Gpt2Tokenizer t = Gpt2Tokenizer.instance();
        assertThat(t.encode("Hello world")).containsExactly(15496, 995);
        assertThat(t.encode("<|endoftext|>")).containsExactly(50256);
        assertThat(t.encode("a<|endoftext|>b")).containsExactly(64, 50256, 65);
        assertThat(t.vocabSize()).isEqualTo(50257);
        for (String s : SAMPLES) {
            assertThat(t.decode(t.encode(s))).isEqualTo(s);
        }
    }

    @Test
    void recoveredMergesAreGpt2s() {
        // GPT-2's merges.txt has 50000 merges; the first is "Ġ t".
        assertThat(files.merges()).hasSize(50000);
        assertThat(files.merges().get(0)).containsExactly("Ġ", "t");
        assertThat(files.vocab()).containsEntry("Hello", 15496).containsEntry("Ġworld", 995).containsEntry("!", 0);
    }

    @Test
    void vocabAndMergesFilesEncodeExactlyAsGpt2(@TempDir Path dir) throws IOException {
        Gpt2FilesFromJtokkit.writeVocabAndMerges(files, dir);
        Tokenizer ours = Tokenizers.load(List.of(dir.resolve("vocab.json").toString(), dir.resolve("merges.txt").toString()));
        assertThat(ours).isInstanceOf(ByteLevelBpe.class);
        assertThat(ours.encode("Hello world")).containsExactly(15496, 995);
        assertThat(ours.vocabSize()).isEqualTo(50257);
        assertSameAsGpt2(ours);
        // the folder and the vocab.json alone (merges.txt beside it) load the same tokenizer
        assertThat(Tokenizers.load(dir.toString()).encode(corpus.substring(0, 2000)))
                .containsExactly(ours.encode(corpus.substring(0, 2000)));
        assertThat(Tokenizers.load(dir.resolve("vocab.json").toString()).encode("Hello world")).containsExactly(15496, 995);
    }

    @Test
    void tokenizerJsonInBothMergeFormatsEncodesAsGpt2(@TempDir Path dir) throws IOException {
        for (boolean pairs : new boolean[] {false, true}) {
            Path file = dir.resolve("tokenizer-" + pairs + ".json");
            Gpt2FilesFromJtokkit.writeTokenizerJson(files, file, pairs);
            Tokenizer ours = Tokenizers.load(file.toString());
            assertThat(ours.encode("Hello world")).containsExactly(15496, 995);
            for (String s : SAMPLES) {
                assertThat(ours.encode(s)).as("%s", s).containsExactly(Gpt2Tokenizer.instance().encode(s));
            }
        }
    }

    private static void assertSameAsGpt2(Tokenizer ours) {
        Gpt2Tokenizer gpt2 = Gpt2Tokenizer.instance();
        List<String> texts = new ArrayList<>(SAMPLES);
        texts.add(corpus);
        for (String s : texts) {
            int[] expected = gpt2.encode(s);
            assertThat(ours.encode(s)).as("ids of %.60s", s).containsExactly(expected);
            assertThat(ours.decode(expected)).isEqualTo(s);
        }
    }

    @Test
    void specNamesLoadTheBuiltIns() throws IOException {
        assertThat(Tokenizers.load("byte")).isSameAs(ByteTokenizer.INSTANCE);
        assertThat(Tokenizers.load("gpt2")).isSameAs(Gpt2Tokenizer.instance());
        assertThat(Tokenizers.load(List.of())).isSameAs(ByteTokenizer.INSTANCE);
    }

    @Test
    void brokenFilesFailClearly(@TempDir Path dir) throws IOException {
        Path vocab = dir.resolve("vocab.json");
        Path merges = dir.resolve("merges.txt");
        Files.writeString(vocab, "[1, 2, 3]");
        Files.writeString(merges, "#version: 0.2\n");
        assertThatThrownBy(() -> Tokenizers.fromVocabAndMerges(vocab, merges))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("vocab.json");
        Files.writeString(vocab, "{\"a\": 0, \"b\": 1}");
        assertThatThrownBy(() -> Tokenizers.fromVocabAndMerges(vocab, merges))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("byte-level");
        Gpt2FilesFromJtokkit.writeVocabAndMerges(files, dir);
        Files.writeString(merges, "#version: 0.2\nĠ t\nthis-line-has-no-space\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Tokenizers.fromVocabAndMerges(vocab, merges))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("line 3");
        Files.writeString(merges, "#version: 0.2\nzzzq qqqz\n", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Tokenizers.fromVocabAndMerges(vocab, merges))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("merge 1");
        Files.writeString(dir.resolve("bad.json"), "{not json");
        assertThatThrownBy(() -> Tokenizers.load(dir.resolve("bad.json").toString()))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("bad.json");
        assertThatThrownBy(() -> Tokenizers.load(dir.resolve("nope").toString()))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("nope");
    }

    @Test
    // guards against the old endless encode loop and FIFO hang, not a speed target
    @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void hostileFilesAreRefusedAtOnceNamingTheFile(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("tokenizer.json");
        Gpt2FilesFromJtokkit.writeTokenizerJson(files, json, false);
        Files.writeString(json, Files.readString(json).replace("\"content\":\"" + Gpt2Tokenizer.END_OF_TEXT_TOKEN + "\"", "\"content\":\"\""));
        assertThatThrownBy(() -> Tokenizers.load(json.toString())).isInstanceOf(TokenizerException.class)
                .hasMessage(json + ": added token " + Gpt2Tokenizer.END_OF_TEXT + " has empty content");
        Gpt2FilesFromJtokkit.writeVocabAndMerges(files, dir);
        Path vocab = dir.resolve("vocab.json");
        Path merges = dir.resolve("merges.txt");
        byte[] text = "#version: 0.2\n\u0120 t\n".getBytes(StandardCharsets.UTF_8);
        text[text.length - 4] = (byte) 0xFF; // the second byte of 'Ġ'
        Files.write(merges, text);
        assertThatThrownBy(() -> Tokenizers.fromVocabAndMerges(vocab, merges))
                .hasMessage(merges + ": the merges file is not UTF-8 text: byte c4 at offset 14 is not valid UTF-8");
        Files.delete(merges);
        assertThat(new ProcessBuilder("mkfifo", merges.toString()).start().waitFor()).isZero();
        assertThatThrownBy(() -> Tokenizers.load(List.of(vocab.toString(), merges.toString())))
                .hasMessage(merges + ": the merges file is a FIFO, socket or device, not a regular file (refused: reading it could block forever)");
        Map<String, Integer> bytes = new java.util.LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            bytes.put(String.valueOf(ByteLevelBpe.byteToChar(b)), b);
        }
        assertThatThrownBy(() -> new ByteLevelBpe("inline", bytes, List.of(), Map.of("", 256)))
                .hasMessage("inline: special token 256 is empty");
    }
}

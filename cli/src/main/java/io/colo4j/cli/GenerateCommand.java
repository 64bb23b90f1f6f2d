package io.colo4j.cli;

import io.colo4j.tensor.comm.Communicators;
import io.colo4j.tensor.nn.Module;
import io.colo4j.zoo.ModelZoo;
import io.colo4j.zoo.generate.Generator;
import io.colo4j.zoo.generate.Sampling;
import io.colo4j.zoo.hf.HfFamilyOps;
import io.colo4j.zoo.sizing.TpDegrees;
import io.colo4j.zoo.tokenizer.Tokenizer;
import io.colo4j.zoo.tokenizer.Tokenizers;
import io.colo4j.zoo.train.Evaluation;
import io.colo4j.zoo.train.LanguageModel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bin/colo4j generate}: continues prompts with a model folder of a causal family (GPT-2, OPT, Llama), on tp
 * in-JVM ranks (or one rank per process under mpirun) sharded by the same rules as training, with a KV cache. Stdout carries only what was generated
 * (the text as it is produced, or one line of ids per --tokens prompt); the speed goes to stderr.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Continues a prompt with a causal LM folder (gpt2, opt, llama): greedy or sampled, KV-cached,",
            "on --tp in-JVM ranks. --prompt streams the text; --tokens prints one line of generated ids per prompt."})
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model-dir", required = true,
            description = "HF model folder (config.json + model.safetensors), a training checkpoint, or a save folder (its latest).")
    Path modelDir;

    @Option(names = "--tp", defaultValue = "1", description = "Tensor-parallel degree, on in-JVM ranks (default: ${DEFAULT-VALUE}).")
    int tp;

    @Mixin
    RulesOption rules;

    @Option(names = "--max-new-tokens", required = true, description = "How many tokens to generate per prompt.")
    int maxNewTokens;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--prompt", description = "Text to continue (encoded with --tokenizer).")
        String prompt;

        @Option(names = "--tokens", description = "Prompts as token ids: one per line, whitespace-separated.")
        Path tokens;
    }

    @Option(names = "--tokenizer", arity = "1..2", paramLabel = "SPEC",
            description = "For --prompt: byte (default, as train), gpt2, an HF tokenizer.json, a folder, or vocab.json merges.txt.")
    List<String> tokenizer;

    @Option(names = "--greedy", description = "The most likely token each time (the default unless --temperature, --top-k or --top-p is given).")
    boolean greedy;

    @Option(names = "--temperature", description = "Sample from softmax(logits / T) (default: 1 when sampling).")
    Double temperature;

    @Option(names = "--top-k", description = "Sample among the K most likely tokens; 0 = all (default: 0).")
    Integer topK;

    @Option(names = "--top-p", description = "Sample among the fewest most likely tokens whose probability reaches P (default: 1).")
    Double topP;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of the samples (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--no-cache", description = "Rerun the whole prefix for every token instead of the KV cache (to compare).")
    boolean noCache;

    @Override
    public Integer call() throws Exception {
        if (tp < 1) {
            throw new IllegalArgumentException("--tp must be >= 1, got " + tp);
        }
        boolean sampling = temperature != null || topK != null || topP != null;
        if (greedy && sampling) {
            throw new IllegalArgumentException("--greedy takes no --temperature, --top-k or --top-p");
        }
        Sampling how = sampling ? new Sampling(false, temperature != null ? temperature : 1, topK != null ? topK : 0,
                topP != null ? topP : 1, seed) : Sampling.GREEDY;
        Generator.Options options = new Generator.Options(maxNewTokens, how, !noCache);
        ModelFolder folder = ModelFolder.open(modelDir, null, rules);
        ModelZoo.Family family = folder.family();
        HfFamilyOps hf = folder.hf();
        Path dir = folder.dir();
        ModelZoo.Family pinned = family.pinned(dir.toString(), folder.config());
        Module lazy = pinned.buildLazily(dir.toString());
        // refused here, naming the culprit, rather than inside the ranks: a family that cannot continue text, bad prompts, a tp the rules cannot shard
        Generator check = new Generator(hf.languageModel(lazy));
        Tokenizer tok = input.prompt != null ? Tokenizers.load(tokenizer == null ? List.of() : tokenizer) : null;
        List<int[]> prompts = input.prompt != null ? List.of(tok.encode(input.prompt)) : Evaluation.readTokenLines(input.tokens, 1);
        for (int i = 0; i < prompts.size(); i++) {
            check.check(prompts.get(i), i + 1, maxNewTokens);
        }
        TpDegrees.require(family, dir.toString(), lazy, tp);
        MpiProcesses.require(tp, "--tp " + tp);
        folder.requireFits(tp);

        PrintStream out = System.out;
        Speed speed = new Speed();
        // threads of this JVM, or one rank per process when started by mpirun
        Communicators.launch(tp, comm -> {
            LanguageModel lm = hf.languageModel(folder.load(comm));
            Generator generator = new Generator(lm);
            boolean printing = comm.rank() == 0;
            for (int p = 0; p < prompts.size(); p++) {
                int[] prompt = prompts.get(p);
                TextStream text = tok != null ? new TextStream(tok, prompt, printing ? out : null) : null;
                long start = System.nanoTime();
                int[] ids = generator.generate(prompt, p + 1, options, id -> {
                    if (printing) {
                        speed.token(start);
                    }
                    if (text != null) {
                        text.add(id);
                    }
                });
                if (text != null) {
                    text.end();
                } else if (printing) {
                    out.println(Arrays.stream(ids).mapToObj(String::valueOf).collect(Collectors.joining(" ")));
                }
            }
        });
        if (!MpiProcesses.first()) {
            return 0;
        }
        System.err.println(speed.summary() + String.format(Locale.ROOT, " (%s, tp=%d, %s)", family.name(), tp,
                noCache ? "no cache: the prefix reread for every token" : "KV cache"));
        return 0;
    }

    /**
     * Rank 0's clock: the first token of a prompt costs reading the prompt (prefill), every later one a decode step;
     * tokens/s is the decode rate, what the KV cache is for.
     */
    private static final class Speed {
        private long tokens;
        private long prefillNanos;
        private long decodeTokens;
        private long decodeNanos;
        private long last;

        void token(long promptStart) {
            long now = System.nanoTime();
            if (last < promptStart) {
                prefillNanos += now - promptStart;
            } else {
                decodeNanos += now - last;
                decodeTokens++;
            }
            last = now;
            tokens++;
        }

        String summary() {
            return String.format(Locale.ROOT, "generated %d tokens: prompts read (and first token) in %.2f s; %d more tokens in %.2f s: %.1f tokens/s",
                    tokens, prefillNanos / 1e9, decodeTokens, decodeNanos / 1e9, decodeNanos == 0 ? 0.0 : decodeTokens / (decodeNanos / 1e9));
        }
    }

    /** Prints the text of the tokens so far as they come, holding back a character whose bytes are not all there yet. */
    private static final class TextStream {
        private final Tokenizer tok;
        private final PrintStream out;
        private int[] ids = new int[0];
        private int printed;

        TextStream(Tokenizer tok, int[] prompt, PrintStream out) {
            this.tok = tok;
            this.out = out;
            if (out != null) {
                out.print(tok.decode(prompt));
                out.flush();
            }
        }

        void add(int id) {
            ids = Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = id;
            String text = tok.decode(ids);
            int complete = text.endsWith("\uFFFD") ? text.length() - 1 : text.length();
            if (out != null && complete > printed) {
                out.print(text.substring(printed, complete));
                out.flush();
                printed = complete;
            }
        }

        void end() {
            String text = tok.decode(ids);
            if (out != null) {
                out.println(text.substring(Math.min(printed, text.length())));
            }
        }
    }
}

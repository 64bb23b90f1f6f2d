package io.colo4j.cli.fuzz;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Options of train (0 or 1 steps of the tiny model), eval and generate (the tiny folder) out of range, of the
 * wrong type, unknown or contradicting each other: each refusal must name the option.
 */
final class OptionsCorpus implements Corpus {
    /** Values no option of these commands takes without a check: out of range, non-finite, not a number. Never a huge valid size. */
    private static final String[] VALUES = {"0", "-1", "-2147483648", "NaN", "Infinity", "-Infinity", "1e300", "abc", "", "1.5",
        "2147483648", "99999999999", "-0"};
    private static final String[] TRAIN_OPTIONS = {"--steps", "--batch", "--seq", "--lr", "--warmup", "--min-lr-ratio", "--weight-decay",
        "--beta1", "--beta2", "--clip", "--dropout", "--seed", "--save-every", "--log-every", "--tp", "--dp", "--zero"};
    private static final String[] EVAL_OPTIONS = {"--tp", "--batch"};
    private static final String[] GENERATE_OPTIONS = {"--tp", "--max-new-tokens", "--temperature", "--top-k", "--top-p", "--seed"};

    private final FuzzAssets assets;

    OptionsCorpus(FuzzAssets assets) {
        this.assets = assets;
    }

    /** train on the bundled corpus, the tiny model, one small step, with {@code changes} on top (the value null: a flag). */
    private static Case train(String culprit, Expect expect, String... changes) {
        Map<String, String> options = new LinkedHashMap<>(Map.of("--steps", "1", "--batch", "2", "--seq", "8"));
        return command("train", options, culprit, expect, changes);
    }

    private Case eval(String culprit, Expect expect, String... changes) {
        Map<String, String> options = new LinkedHashMap<>(Map.of("--model-dir", assets.model.toString()));
        return command("eval", options, culprit, expect, changes);
    }

    private Case generate(String culprit, Expect expect, String... changes) {
        Map<String, String> options = new LinkedHashMap<>(Map.of("--model-dir", assets.model.toString(), "--prompt", "hi",
                "--max-new-tokens", "2", "--seed", "1"));
        return command("generate", options, culprit, expect, changes);
    }

    private static Case command(String command, Map<String, String> options, String culprit, Expect expect, String... changes) {
        for (int i = 0; i < changes.length; i += 2) {
            options.put(changes[i], changes[i + 1]);
        }
        StringBuilder label = new StringBuilder(command);
        for (int i = 0; i < changes.length; i += 2) {
            label.append(' ').append(changes[i]).append(changes[i + 1] != null ? " '" + changes[i + 1] + "'" : "");
        }
        return new Case(label.toString(), expect, dir -> {
            List<Object> args = new ArrayList<>(List.of(command));
            options.forEach((k, v) -> {
                args.add(k);
                if (v != null) {
                    args.add(v);
                }
            });
            if (command.equals("eval")) {
                Path tokens = FuzzAssets.tokens(dir);
                args.addAll(List.of("--tokens", tokens));
            }
            return HostileInput.Invocation.of(culprit, args.toArray());
        });
    }

    @Override
    public List<Case> fixed() {
        List<Case> cases = new ArrayList<>();
        cases.add(train("", Expect.VALID));
        cases.add(train("--lr", Expect.INVALID, "--lr", "NaN"));
        cases.add(train("--lr", Expect.INVALID, "--lr", "Infinity"));
        cases.add(train("--lr", Expect.INVALID, "--lr", "-1"));
        cases.add(train("--steps", Expect.INVALID, "--steps", "-2"));
        cases.add(train("--batch", Expect.INVALID, "--batch", "0"));
        cases.add(train("--seq", Expect.INVALID, "--seq", "0"));
        cases.add(train("--tp", Expect.INVALID, "--tp", "0"));
        cases.add(train("tp", Expect.INVALID, "--tp", "3"));
        cases.add(train("", Expect.VALID, "--tp", "2"));
        cases.add(eval("", Expect.VALID));
        cases.add(generate("", Expect.VALID));
        cases.add(train("--dp", Expect.INVALID, "--dp", "0"));
        cases.add(train("--zero", Expect.INVALID, "--zero", "3"));
        cases.add(train("--zero", Expect.INVALID, "--zero", "1"));
        cases.add(train("--batch", Expect.INVALID, "--batch", "3", "--dp", "2"));
        cases.add(train("--warmup", Expect.INVALID, "--warmup", "-1"));
        cases.add(train("--clip", Expect.INVALID, "--clip", "-1"));
        cases.add(train("--clip", Expect.INVALID, "--clip", "NaN"));
        cases.add(train("--beta1", Expect.INVALID, "--beta1", "1.5"));
        cases.add(train("--beta2", Expect.INVALID, "--beta2", "-0.1"));
        cases.add(train("--weight-decay", Expect.INVALID, "--weight-decay", "NaN"));
        cases.add(train("--min-lr-ratio", Expect.INVALID, "--min-lr-ratio", "2"));
        cases.add(train("--dropout", Expect.INVALID, "--dropout", "2"));
        cases.add(train("--dropout", Expect.INVALID, "--dropout", "-0.5"));
        cases.add(train("--seed", Expect.INVALID, "--seed", "abc"));
        cases.add(train("--steps", Expect.INVALID, "--steps", "abc"));
        cases.add(train("--save-every", Expect.INVALID, "--save-every", "-1"));
        cases.add(train("--log-every", Expect.INVALID, "--log-every", "-1"));
        cases.add(train("--foo", Expect.INVALID, "--foo", null));
        cases.add(train("nosuch", Expect.INVALID, "--model", "nosuch"));
        cases.add(train("nosuch", Expect.INVALID, "--config", "nosuch"));
        cases.add(train("nosuch-tokenizer", Expect.INVALID, "--tokenizer", "nosuch-tokenizer"));
        cases.add(train("", Expect.VALID, "--lr", "1e-4", "--dropout", "0.1"));
        cases.add(eval("--tp", Expect.INVALID, "--tp", "0"));
        cases.add(eval("--batch", Expect.INVALID, "--batch", "0"));
        cases.add(eval("--batch", Expect.INVALID, "--batch", "-1"));
        cases.add(generate("--max-new-tokens", Expect.INVALID, "--max-new-tokens", "-1"));
        cases.add(generate("--temperature", Expect.INVALID, "--temperature", "NaN"));
        cases.add(generate("--top-p", Expect.INVALID, "--top-p", "2"));
        cases.add(generate("--top-k", Expect.INVALID, "--top-k", "-1"));
        cases.add(generate("--tp", Expect.INVALID, "--tp", "0"));
        return cases;
    }

    @Override
    public Case random(SplittableRandom rng) {
        String value = VALUES[rng.nextInt(VALUES.length)];
        return switch (rng.nextInt(4)) {
            case 0 -> {
                String option = EVAL_OPTIONS[rng.nextInt(EVAL_OPTIONS.length)];
                yield eval(option, Expect.EITHER, option, value);
            }
            case 1 -> {
                String option = GENERATE_OPTIONS[rng.nextInt(GENERATE_OPTIONS.length)];
                yield generate(option, Expect.EITHER, option, value);
            }
            default -> {
                String option = TRAIN_OPTIONS[rng.nextInt(TRAIN_OPTIONS.length)];
                if (option.equals("--steps") && value.matches("\\d{3,}")) {
                    value = "-5"; // a valid huge step count would only train for ever
                }
                yield train(option, Expect.EITHER, option, value);
            }
        };
    }
}

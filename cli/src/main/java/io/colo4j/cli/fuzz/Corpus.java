package io.colo4j.cli.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The inputs of one class: first its hand-written cases (the findings of issue 18 and their neighbours, so even
 * a small count covers them), then random mutations drawn from the seed.
 */
interface Corpus {
    List<Case> fixed();

    Case random(SplittableRandom rng);

    default List<HostileInput> inputs(InputClass inputClass, int count, SplittableRandom rng) {
        List<Case> fixed = fixed();
        List<HostileInput> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Case c = i < fixed.size() ? fixed.get(i) : random(rng);
            out.add(new HostileInput(inputClass, i, c.label(), c.expect(), c.prepare()));
        }
        return out;
    }
}
